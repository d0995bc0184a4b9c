# Build the panel's front end, then run the service as a non-root user with /data as a volume.
FROM node:20-bookworm-slim AS frontend
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
# The build also bundles each platform's page scripts into its own package (web/build.mjs):
# Zoom's from zoom_app/static_src, and gzip twins of Jitsi's scripts served as written.
COPY zoom_app/static_src/ /src/zoom_app/static_src/
COPY jitsi_app/static/ /src/jitsi_app/static/
RUN mkdir -p /src/sidecar/static /src/zoom_app/static && npm run build

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    MENTOR_SIDECAR_HOST=0.0.0.0 MENTOR_SIDECAR_PORT=8080 MENTOR_SIDECAR_DATA_DIR=/data
RUN useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin sidecar \
    && mkdir /data && chown sidecar /data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY sidecar/ sidecar/
# The call platforms, each a package beside the core (found by its entry point).
COPY zoom_app/ zoom_app/
COPY jitsi_app/ jitsi_app/
COPY --from=frontend /src/sidecar/static/ sidecar/static/
COPY --from=frontend /src/zoom_app/static/ zoom_app/static/
COPY --from=frontend /src/jitsi_app/static/ jitsi_app/static/
RUN pip install --no-cache-dir . && rm -rf /app/sidecar /app/zoom_app /app/jitsi_app
USER sidecar
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/readyz').status != 200)"
CMD ["mentor-sidecar", "serve"]
