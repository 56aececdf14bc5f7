"""specs: from traffic to OpenAPI. Data flow and modules:

    exchanges --summary.ApiSummary.add--> summaries --merge--> (summary_file: versioned files)
              --openapi.render_openapi--> document --document.write_document--> YAML/JSON
    formats      string/number format detection (standalone API, also used by checking)
    paths        per-segment id evidence and the path key summaries are stored under
    shape        the mergeable, bounded summary of JSON values at one location
    summary      per-operation summaries (parameters, bodies, responses) and the API summary
    templating   path templates from cross-path evidence, with explanations
    schema       JSON Schema from a shape, drift detection; drift: the drift report
    openapi      the document; components: shared schemas; openapi30: the 3.0 downgrade
    update       --update / --prune; run: -j workers and shards; distributed: the same on Dask
    commands     `restscope specs summarize | merge | infer`
Errors: `SpecError` (in `specs.document`) is this package's base, under `RestscopeError`.
"""
