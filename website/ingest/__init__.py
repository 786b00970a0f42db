"""The tracker's ingest path, `POST /t/batch`, from the wire to durable rows.

parse      decode and validate a batch (no database access)
identify   which identify calls the site signed (trusted) and which are only claims
endpoint   the endpoint's checks and answer (CORS, limits, bots, DNT), Django view and snippet
wsgi       the WSGI fast path gunicorn serves the endpoint through (madansara.wsgi)
writer     group commit: one COPY and one durable commit for many concurrent requests
spool      the local disk spool for batches the database could not take right now
"""
