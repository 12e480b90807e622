# Redis from Debian's package on the locally built base: the compose file's redis service where
# no image registry can be reached.
ARG BASE_IMAGE=localhost/hlsdump-debian-min:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server \
  && rm -rf /var/lib/apt/lists/* \
  && mkdir -p /data && chown redis:redis /data
WORKDIR /data
USER redis
CMD ["redis-server", "--protected-mode", "no"]
