"""Rewriters Exchange -> Exchange: the plugin protocol, the built-in plugins, redaction.

    plugins.base        the Plugin contract (scope, config, pure rewrite, provenance notes)
    plugins.redaction   secrets out of everything written or printed (entry point `redact`)
    plugins.flickr      Flickr's RPC API in REST form (entry point `flickr`)
    plugins.rpc         the same for any RPC-over-HTTP API described in YAML (entry point `rpc`)
    plugins.params      request parameters in query, form, multipart and JSON bodies
    plugins.answers     RPC answers: JSON, JSONP, XML; JSON pointers
    plugins.secret_values  redaction's second pass: secret values found anywhere else

Plugins are found through the `restscope.plugins` entry-point group (see observe.pipeline).
"""
