# The product's image: the same code and pinned dependencies as everywhere else. compose.yaml
# runs it as the web process, one Celery worker per queue, and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY requirements/base.txt requirements/base.txt
RUN pip install --no-cache-dir -r requirements/base.txt
COPY . .
# Static files are gathered at build time; DEBUG off, with throw-away secrets for this step only.
RUN DEBUG=false SECRET_KEY=build FIELD_ENCRYPTION_KEYS=YnVpbGQtb25seS1rZXktYnVpbGQtb25seS1rZXktMDA= \
    ALLOWED_HOSTS=build STATIC_ROOT=/app/var/staticfiles python manage.py collectstatic --noinput \
 && mkdir -p /app/var/metrics && useradd --system --home /app helpdesk && chown -R helpdesk /app/var
USER helpdesk
EXPOSE 8000
CMD ["uvicorn", "helpdesk.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers"]
