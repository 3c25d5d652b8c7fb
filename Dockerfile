# The grader in one container. Builds on python:3.12-slim, or on any Debian-based image with
# python3 and its venv module (BASE_IMAGE): only `python3` is called, and everything goes into a
# virtual environment.
ARG BASE_IMAGE=python:3.12-slim

FROM ${BASE_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python3 -m venv /opt/grader
COPY pyproject.toml README.md /src/
COPY grader /src/grader
RUN /opt/grader/bin/pip install --quiet /src && rm -rf /src

FROM ${BASE_IMAGE} AS runtime
# No compilers and no build caches here: the venv comes from the build stage, as built.
RUN useradd --system --uid 10001 --user-group --home-dir /srv/grader --no-create-home grader \
    && mkdir -p /data /srv/grader/extra && chown grader:grader /data && chmod 0700 /data
COPY --from=build /opt/grader /opt/grader
# The built-in bundles name their reference modules as ../../reference/<id>.py: the two folders
# go side by side. (The build stage installs the package alone, which reads neither.)
COPY exercises /srv/grader/exercises
COPY reference /srv/grader/reference
# Where the server listens: GRADER_HOST and GRADER_PORT, read by the CMD and the HEALTHCHECK
# alike (docker run -e GRADER_PORT=8100 ...): a server on another port is still checked.
ENV PATH=/opt/grader/bin:$PATH \
    GRADER_EXERCISES_DIR=/srv/grader/exercises \
    GRADER_EXTRA_EXERCISES_DIR=/srv/grader/extra \
    GRADER_DATA_DIR=/data \
    GRADER_HOST=0.0.0.0 \
    GRADER_PORT=8000
VOLUME /data
WORKDIR /srv/grader
USER grader
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; host = os.environ.get('GRADER_HOST', ''); host = '127.0.0.1' if host in ('', '0.0.0.0', '::') else host; host = f'[{host}]' if ':' in host else host; urllib.request.urlopen(f\"http://{host}:{os.environ.get('GRADER_PORT', '8000')}/healthz\", timeout=2)"]
CMD ["sh", "-c", "exec grader serve --host \"$GRADER_HOST\" --port \"$GRADER_PORT\""]

# The sandbox's own tests, run inside the container: docker build --target test .
FROM runtime AS test
USER root
RUN /opt/grader/bin/pip install --quiet --no-cache-dir pytest hypothesis scipy httpx
COPY pyproject.toml /srv/grader/pyproject.toml
COPY tests /srv/grader/tests
RUN chown -R grader:grader /srv/grader
USER grader
CMD ["python3", "-m", "pytest", "-p", "no:cacheprovider", "tests/sandbox", "tests/test_grading_processes.py"]

FROM runtime
