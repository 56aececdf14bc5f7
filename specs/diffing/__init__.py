"""`restscope specs diff`: classify every change between two OpenAPI 3.0/3.1 documents.

    loading      read a spec (file or git:REF:path), lines for JSON pointers
    swagger2     convert a Swagger 2.0 document to OpenAPI 3.0 (old specs, Flickr's)
    catalog      the rule table (rules.yaml): ids, severities, before/after examples
    schemaview   one schema node normalized (refs, allOf, nullable spellings)
    schemadiff   direction-aware schema comparison (memoized, cycle-safe)
    engine       paths and the document; operations: one operation's parts
    ignoring     --ignore files; report: text, markdown, json, github output
    command      the click command
"""
