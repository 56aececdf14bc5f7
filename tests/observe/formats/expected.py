"""Expected exchanges of every corpus file these formats read, established independently.

Each entry is (method, url, status or None when there is no response). The values come from the
files themselves, not from restscope: HAR files were listed with
`jq -r '.log.entries[] | [.request.method, .request.url, .response.status]'` (status 0 is a
request without response), mitmproxy flows with mitmproxy's own `io.FlowReader`
(`flow.request.pretty_url`, `flow.response.status_code`), and cassettes with vcrpy's own
`FilesystemPersister.load_cassette` (`request.method`, `request.uri`, status code).
"""

# ruff: noqa: E501

HAR = {
    "mitmproxy2swagger__form_data_har.har": [
        ("POST", "https://httpbin.org/post", 200),
    ],
    "mitmproxy__flows_corrupted_gzip_body.har": [
        ("GET", "http://127.0.0.1:5000/", 200),
    ],
    "mitmproxy__flows_successful_log.har": [
        ("GET", "https://example.com/", 200),
        ("POST", "https://httpbin.org/post", 200),
    ],
    "mitmproxy__har_files_chrome.har": [
        ("GET", "https://mitmproxy.org/", 304),
        ("GET", "https://www.google.com/", None),
        ("GET", "https://www.google.com/images/branding/googlelogo/2x/googlelogo_light_color_272x92dp.png", 200),
    ],
    "mitmproxy__har_files_firefox.har": [
        ("GET", "https://mitmproxy.org/", 304),
        ("GET", "https://mitmproxy.org/logo-navbar.png", 200),
        ("GET", "https://mitmproxy.org/screenshot.png", 200),
        ("GET", "https://mitmproxy.org/mitmweb.png", 200),
        ("GET", "https://mitmproxy.org/sponsors/proxyman.png", 200),
        ("GET", "https://mitmproxy.org/sponsors/netograph.svg", 200),
        ("GET", "https://mitmproxy.org/polyfills.js", 200),
        ("GET", "https://mitmproxy.org/clipboard.min.js", 200),
        ("GET", "https://mitmproxy.org/snapshots.js", 200),
        ("GET", "https://mitmproxy.org/github-btn.html?user=mhils&type=sponsor&size=large", 304),
        ("GET", "https://mitmproxy.org/github-btn.html?user=mitmproxy&repo=mitmproxy&type=star&count=true&size=large", 304),
        ("GET", "https://s3-us-west-2.amazonaws.com/snapshots.mitmproxy.org?delimiter=/&prefix=", 200),
        ("GET", "https://mitmproxy.org/data/github-stats.json", 304),
        ("GET", "https://mitmproxy.org/favicon.ico", 200),
    ],
    "mitmproxy__har_files_insomnia.har": [
        ("GET", "http://mitm.it/", 200),
    ],
    "mitmproxy__har_files_with-bom.har": [
        ("POST", "https://signal-metrics-collector-beta.s-onetag.com/metrics", 200),
    ],
}

MITMPROXY_FLOWS = {
    "mitmproxy__dumpfile-019.mitm": [
        ("GET", "https://webrv.rtb-seller.com/webrv-at?width=400&height=300&page_url=https%3A%2F%2Fwww.thedrive.com%2Fnews%2F31982%2Fnew-2021-ford-bronco-spy-shots-check-out-those-tires&use_host=1&p=0.01&session_id=a3954840-a69c-11ea-b057-b79adcbac944&ip=173.248.143.139&ua=Mozilla%2F5.0%20%28Macintosh%3B%20Intel%20Mac%20OS%20X%2010_15_4%29%20AppleWebKit%2F537.36%20%28KHTML%2C%20like%20Gecko%29%20Chrome%2F83.0.4103.97%20Safari%2F537.36&tc=5b8570d71b8c4a00011b2006&debugg=&device_type=2", None),
    ],
    "mitmproxy__dumpfile-7.mitm": [
        ("GET", "http://example.com/", 200),
        ("GET", "https://example.com/", 200),
    ],
    "mitmproxy__flows_event_stream.mitm": [
        ("GET", "https://clientstream.launchdarkly.com/meval/eyJhbm9ueW1vdXMiOnRydWUsImtleSI6Im1pbnQtYW5kcm9pZCJ9", 200),
        ("GET", "https://clientstream.launchdarkly.com/meval/eyJhbm9ueW1vdXMiOnRydWUsImtleSI6Im1pbnQtYW5kcm9pZCIsImN1c3RvbSI6eyJvcyI6MzAsImRldmljZSI6Im1vdG9yb2xhIG9uZSA1RyBhY2Uga2lldl90In19", 200),
    ],
    "mitmproxy__flows_successful_log.mitm": [
        ("GET", "https://example.com/", 200),
        ("POST", "https://httpbin.org/post", 200),
    ],
}

CASSETTES = {
    "tweepy__test_client_create_and_delete_tweet.yaml": [
        ("POST", "https://api.twitter.com/2/tweets", 201),
        ("DELETE", "https://api.twitter.com/2/tweets/1456012973835788293", 200),
    ],
    "tweepy__test_client_get_home_timeline.yaml": [
        ("GET", "https://api.twitter.com/2/users/1072250532645998596/timelines/reverse_chronological", 200),
    ],
    "tweepy__testgeoapis.json": [
        ("GET", "https://api.twitter.com/1.1/geo/similar_places.json?lat=37.7821120598956&long=-122.400612831116&name=South+of+Market+Child+Care", 200),
        ("GET", "https://api.twitter.com/1.1/geo/id/1ffd3558f2e98349.json", 200),
        ("GET", "https://api.twitter.com/1.1/geo/reverse_geocode.json?lat=30.2673701685&long=-97.7426147461", 200),
    ],
    "tweepy__testgetfollowers.yaml": [
        ("GET", "https://api.twitter.com/1.1/followers/list.json?screen_name=TweepyDev", 200),
    ],
    "vcrpy__gzip_httpx_old_format.yaml": [
        ("GET", "https://httpbin.org/gzip", 200),
    ],
    "vcrpy__gzip_requests.yaml": [
        ("GET", "https://httpbin.org/gzip", 200),
    ],
    "vcrpy__wild_domain_redirect.yaml": [
        ("GET", "http://seomoz.org/", 301),
        ("GET", "http://moz.com/", 200),
    ],
}

FLICKR_CASSETTES = {
    "flickr-photos-api__TestGetExif.test_get_exif_with_permission_denied.yml": [
        ("GET", "https://api.flickr.com/services/rest/?method=flickr.photos.getExif&photo_id=54208962452", 200),
    ],
    "flickr-photos-api__TestGetPhotoContexts.test_gets_album_info.yml": [
        ("GET", "https://api.flickr.com/services/rest/?method=flickr.photos.getAllContexts&photo_id=51800056877", 200),
        ("GET", "https://api.flickr.com/services/rest/?method=flickr.galleries.getListForPhoto&per_page=500&photo_id=51800056877", 200),
    ],
    "flickr-photos-api__TestGetProfile.test_get_nonexistent_user_is_error.yml": [
        ("GET", "https://api.flickr.com/services/rest/?method=flickr.profile.getProfile&user_id=does_not_exist", 200),
    ],
    "flickr-photos-api__TestGetSinglePhoto.test_get_single_photo.yml": [
        ("GET", "https://api.flickr.com/services/rest/?method=flickr.photos.getInfo&photo_id=32812033543", 200),
        ("GET", "https://api.flickr.com/services/rest/?method=flickr.photos.getSizes&photo_id=32812033543", 200),
        ("GET", "https://api.flickr.com/services/rest/?method=flickr.photos.licenses.getInfo", 200),
    ],
    "flickr-photos-api__TestGetUser.test_get_deleted_user_id.yml": [
        ("GET", "https://api.flickr.com/services/rest/?method=flickr.people.getInfo&user_id=48143042%40N05", 200),
    ],
    "flickr-photos-api__TestGetUser.test_get_user_by_url.yml": [
        ("GET", "https://api.flickr.com/services/rest/?method=flickr.people.getInfo&user_id=199246608%40N02", 200),
    ],
    "flickr-photos-api__TestLookupUser.test_lookup_user_by_id.yml": [
        ("GET", "https://api.flickr.com/services/rest/?method=flickr.people.getInfo&user_id=199258389%40N04", 200),
    ],
    "flickr-photos-api__test_a_persistent_error_201_is_raised.yml": [
        ("GET", "https://api.flickr.com/services/rest/?method=flickr.photos.getInfo&photo_id=32812033543", 200),
        ("GET", "https://api.flickr.com/services/rest/?method=flickr.photos.getInfo&photo_id=32812033543", 200),
        ("GET", "https://api.flickr.com/services/rest/?method=flickr.photos.getInfo&photo_id=32812033543", 200),
        ("GET", "https://api.flickr.com/services/rest/?method=flickr.photos.getInfo&photo_id=32812033543", 200),
        ("GET", "https://api.flickr.com/services/rest/?method=flickr.photos.getInfo&photo_id=32812033543", 200),
    ],
    "flickr-photos-api__test_a_persistent_invalid_xml_error_is_raised.yml": [
        ("GET", "https://api.flickr.com/services/rest/?method=flickr.photos.getInfo&photo_id=32812033543", 200),
        ("GET", "https://api.flickr.com/services/rest/?method=flickr.photos.getInfo&photo_id=32812033543", 200),
        ("GET", "https://api.flickr.com/services/rest/?method=flickr.photos.getInfo&photo_id=32812033543", 200),
        ("GET", "https://api.flickr.com/services/rest/?method=flickr.photos.getInfo&photo_id=32812033543", 200),
        ("GET", "https://api.flickr.com/services/rest/?method=flickr.photos.getInfo&photo_id=32812033543", 200),
        ("GET", "https://api.flickr.com/services/rest/?method=flickr.photos.getInfo&photo_id=32812033543", 200),
    ],
    "flickr-photos-api__test_a_usage_error_is_generic_exception.yml": [
        ("GET", "https://api.flickr.com/services/rest/?method=flickr.galleries.getListForPhoto", 200),
    ],
    "flickr-photos-api__test_an_unrecognised_error_is_generic_exception.yml": [
        ("GET", "https://api.flickr.com/services/rest/?method=flickr.test.null", 200),
    ],
    "flickr-photos-api__test_get_public_photos_by_user.yml": [
        ("GET", "https://api.flickr.com/services/rest/?method=flickr.urls.lookupUser&url=https%3A%2F%2Fwww.flickr.com%2Fphotos%2Fgeorge", 200),
        ("GET", "https://api.flickr.com/services/rest/?method=flickr.people.getInfo&user_id=34427469121%40N01", 200),
        ("GET", "https://api.flickr.com/services/rest/?extras=license%2Cdate_upload%2Cdate_taken%2Cmedia%2Coriginal_format%2Cowner_name%2Curl_sq%2Curl_t%2Curl_s%2Curl_m%2Curl_o%2Ctags%2Cgeo%2Curl_q%2Curl_l%2Cdescription%2Csafety_level%2Crealname%2Cowner%2Cpath_alias&method=flickr.people.getPublicPhotos&page=1&per_page=10&user_id=34427469121%40N01", 200),
        ("GET", "https://api.flickr.com/services/rest/?method=flickr.photos.licenses.getInfo", 200),
    ],
}
