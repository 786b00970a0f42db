# syntax=docker/dockerfile:1
# Madan Sara: one image for web, worker and beat (the command picks the process; see Procfile).

# --- build: dependencies in a virtualenv, static files collected --------------------------
FROM python:3.12-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
RUN python -m venv /venv
COPY requirements.txt .
RUN /venv/bin/pip install -r requirements.txt
COPY . .
# collectstatic imports the production settings: a throwaway key, no database or broker touched
RUN DEBUG=0 SECRET_KEY=collectstatic-only MADANSARA_VAR_DIR=/app/var \
    /venv/bin/python manage.py collectstatic --no-input -v0 \
 && rm -rf /app/var/broker

# --- runtime: no compilers, a non-root user ------------------------------------------------
FROM python:3.12-slim-bookworm AS runtime
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=madansara.settings \
    MADANSARA_VAR_DIR=/app/var \
    DEBUG=0 \
    PORT=8000
RUN groupadd --system --gid 10001 madansara \
 && useradd --system --uid 10001 --gid madansara --home-dir /app --shell /usr/sbin/nologin madansara
WORKDIR /app
COPY --from=build /venv /venv
COPY --from=build --chown=madansara:madansara /app /app
USER madansara
EXPOSE 8000
# /healthz is answered before host and HTTPS checks (LivenessMiddleware), so 127.0.0.1 works here
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]
CMD ["gunicorn", "madansara.wsgi", "--config", "deploy/gunicorn.conf.py"]
