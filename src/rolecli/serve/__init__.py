"""`rolecli serve`: a web page for recruiters and a JSON API for job boards, over the library.

  server     the settings, their safety rules, and starting uvicorn;
  app        the Starlette app: routes, the token check, request logging, error responses;
  requests   reading bounded request bodies: JSON, JSONL and the page's form;
  scoring    the library calls behind every route, in one place;
  page       the page's HTML around the HTML report's own cards;
  openapi    the API's OpenAPI schema.

Starlette and uvicorn come with the optional extra `rolecli[serve]`. Only `app` and
`requests` import them, and nothing imports those two unless the server starts.
"""
