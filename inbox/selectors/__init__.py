"""Inbox's reads, by use; import from the submodules:

- `visibility`: which conversations a user may see, shared by the REST API and the console;
- `console`: the agent console's pages, rows, threads and socket groups, built on `visibility`.
"""
