"""Rewriters Exchange -> Exchange: the plugin protocol, the built-in plugins, redaction.

    plugins.base        the Plugin contract (scope, config, pure rewrite, provenance notes)
    plugins.redaction   secrets out of everything written or printed (entry point `redact`)
    plugins.flickr      Flickr's RPC API in REST form (entry point `flickr`)
    plugins.rpc         the same for any RPC-over-HTTP API described in YAML (entry point `rpc`)

Plugins are found through the `restscope.plugins` entry-point group (see observe.pipeline).
"""
