# Loupe (iiif-loupe), scale-out image: one image for the web server and the job workers, CPU
# and GPU alike (PyPI's torch wheels carry CUDA and run on CPU too). See deploy/README.md.
#
#   docker build -t iiif-loupe:local .        (docker-compose builds it as iiif-loupe:local)
#   docker run --rm iiif-loupe:local --help
#
# Only classic-builder instructions: Debian's docker-compose v1 builds without BuildKit.

ARG PYTHON_IMAGE=python:3.11-slim

# --- web: the viewer plugin (Mirador) and the lens, built with their pinned npm packages -------
FROM node:20-slim AS web
WORKDIR /web
COPY viewer_plugin/package.json viewer_plugin/package-lock.json viewer_plugin/
COPY lens/package.json lens/package-lock.json lens/
RUN cd viewer_plugin && npm ci --no-audit --no-fund && cd ../lens && npm ci --no-audit --no-fund
COPY viewer_plugin/ viewer_plugin/
COPY lens/ lens/
RUN cd viewer_plugin && npm run build && cd ../lens && npm run build

# --- build: the project and its pinned dependency set in a virtual environment -------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/loupe \
 && /opt/loupe/bin/pip install --quiet "pip<25" "setuptools<81" wheel
WORKDIR /src

# Dependencies first, in their own layer, so that a change to Loupe's code does not
# reinstall torch and TensorFlow: the requirements are read from pyproject.toml itself.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; extra = p['optional-dependencies']; print('\n'.join(p['dependencies'] + extra['ml'] + extra['postgres'] + extra['server']))" > /tmp/requirements.txt \
 && /opt/loupe/bin/pip install --quiet -c constraints.txt -r /tmp/requirements.txt

# Then the project (a regular, non-editable install: the source tree stays in this stage).
COPY . .
RUN /opt/loupe/bin/pip install --quiet -c constraints.txt ".[ml,postgres,server]" \
 && /opt/loupe/bin/loupe --version

# --- runtime ---------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="Loupe" \
      org.opencontainers.image.description="Computer vision for collections that already publish IIIF" \
      org.opencontainers.image.source="https://github.com/loupe-iiif/iiif-loupe" \
      org.opencontainers.image.licenses="MIT"

# A fixed, non-root uid/gid so that volume ownership is predictable across rebuilds.
ARG LOUPE_UID=10001
RUN groupadd --system --gid ${LOUPE_UID} loupe \
 && useradd --system --uid ${LOUPE_UID} --gid loupe --home-dir /home/loupe --create-home \
            --shell /usr/sbin/nologin loupe \
 && mkdir -p /data/models /data/cache/huggingface \
 && chown -R loupe:loupe /data

COPY --from=build /opt/loupe /opt/loupe
COPY --from=web /web/viewer_plugin/dist /opt/loupe/web/viewer_plugin
COPY --from=web /web/lens/dist /opt/loupe/web/lens

# Everything Loupe writes lives under /data (catalog when SQLite, index in local mode, caches,
# models, published collections). The caches of the model libraries go there too, so that
# weights are downloaded once and shared by web and workers through the volumes.
ENV PATH=/opt/loupe/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LOUPE_DATA_DIR=/data \
    LOUPE_HOST=0.0.0.0 \
    LOUPE_PORT=8600 \
    LOUPE_WEB_DIST_DIR=/opt/loupe/web \
    HF_HOME=/data/cache/huggingface \
    TORCH_HOME=/data/cache/torch \
    KERAS_HOME=/data/cache/keras \
    MPLCONFIGDIR=/tmp/matplotlib

USER loupe
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8600

# Up when the HTTP server answers on LOUPE_PORT with any status below 500 (no endpoint is
# assumed). Workers, which serve nothing, override this in docker-compose.yml.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD ["python", "-c", "import http.client, os; c = http.client.HTTPConnection('127.0.0.1', int(os.environ.get('LOUPE_PORT', '8600')), timeout=4); c.request('GET', '/api/health'); raise SystemExit(0 if c.getresponse().status == 200 else 1)"]

ENTRYPOINT ["loupe"]
CMD ["--help"]
