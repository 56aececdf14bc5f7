"""`restscope specs check`: where traffic leaves an OpenAPI spec.

    rules       the check rule table (ids, severities)
    matching    concrete request -> spec operation (templates, server base paths, Flickr RPC)
    validation  a JSON value against a schema: deviations with JSON pointers
    checker     one exchange -> findings; FindingTally groups, counts, keeps one example
    live        build_checker(spec_path) for the live tail (entry point restscope.checkers)
    command     the click command
"""
