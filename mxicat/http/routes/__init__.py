"""HTTP routes of the MX API, PaNOSC provider and federation: request parsing and responses only.

Each module holds one ``router``; :func:`mxicat.http.app.routers` lists them explicitly.
"""
