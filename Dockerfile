# The modelreg image: `modelreg` as the entrypoint, git for the registry, curl for `sync --exec` hooks.
#
#   docker build -t registry.example.com/modelreg:0.1.0 .
#
# (push it to your own registry; examples/kubernetes runs this tag). Extras: --build-arg EXTRAS=s3,gcs,azure
FROM python:3.12-slim

ARG EXTRAS=s3
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOME=/home/modelreg \
    XDG_CACHE_HOME=/cache

RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates curl openssh-client \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 modelreg \
    && useradd --uid 10001 --gid 10001 --create-home --home-dir /home/modelreg --shell /usr/sbin/nologin modelreg \
    && mkdir -p /cache /models \
    && chown modelreg:modelreg /cache /models

COPY pyproject.toml README.md LICENSE MANIFEST.in /src/
COPY modelreg /src/modelreg
RUN python -m pip install "/src[${EXTRAS}]" && rm -rf /src

USER 10001:10001
WORKDIR /home/modelreg
ENTRYPOINT ["modelreg"]
CMD ["--help"]
