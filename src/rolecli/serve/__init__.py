"""`rolecli serve`: a web page for recruiters and a JSON API for job boards, over the library.

  server     the settings, their safety rules, and starting uvicorn;
  connection uvicorn's HTTP protocol with a deadline per connection phase, connection caps,
             JSON refusals, and cutting what still runs at shutdown;
  app        the Starlette app: routes, the token check, request logging, error responses,
             the scoring threads and the memory budget;
  requests   reading bounded request bodies: JSON, JSONL and the page's form;
  scoring    the library calls behind every route, in one place;
  page       the page's HTML around the HTML report's own cards;
  openapi    the API's OpenAPI schema.

Starlette and uvicorn come with the optional extra `rolecli[serve]`. Only `app`,
`requests` and `connection` import them, and nothing imports those unless the server starts.
"""
