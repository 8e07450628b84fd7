# Baton's one image: `baton api` by default; compose runs the worker, migrations and setup from it
# with other commands.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, from pyproject alone, so editing code does not re-download them.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
    > /tmp/requirements.txt
RUN pip install -r /tmp/requirements.txt

COPY domain ./domain
COPY infra ./infra
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
COPY api ./api
COPY store ./store
COPY cli ./cli
COPY bench ./bench
RUN pip install --no-deps . && rm -rf /app/build

# A fixed uid, so volume permissions and Kubernetes `runAsUser` can name it.
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin baton \
    && mkdir -p /app/.baton && chown baton /app/.baton
USER baton

EXPOSE 8000 9464
CMD ["baton", "api", "--host", "0.0.0.0", "--port", "8000"]
