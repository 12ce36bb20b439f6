#!/usr/bin/env bash
# Start what the test-suite needs beside the package itself: RabbitMQ with its STOMP adapter on
# 127.0.0.1:61613, reachable from pyicat-plus unchanged. Idempotent; safe to run on a dev machine.
#
# pyicat-plus's STOMP library (stompest) sends an empty `host` header and RabbitMQ's STOMP adapter takes
# that header as the virtual host, so a virtual host named '' must exist with permissions for the user.
set -euo pipefail

wait_port() {  # host port seconds
  local host=$1 port=$2 limit=$3 i
  for ((i = 0; i < limit * 4; i++)); do
    if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then return 0; fi
    sleep 0.25
  done
  return 1
}

if ! command -v rabbitmqctl >/dev/null 2>&1; then
  echo "ci-services: RabbitMQ is not installed; installing it from Debian's packages"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null
fi
if ! rabbitmqctl -q status >/dev/null 2>&1; then
  echo "ci-services: starting RabbitMQ"
  rabbitmq-server -detached
  rabbitmqctl -q wait --timeout 60 /var/lib/rabbitmq/mnesia/rabbit@"$(hostname -s)".pid >/dev/null 2>&1 \
    || wait_port 127.0.0.1 5672 60
fi
rabbitmq-plugins -q enable rabbitmq_stomp >/dev/null
if ! rabbitmqctl -q list_vhosts | grep -qx ''; then
  rabbitmqctl -q add_vhost ''
fi
rabbitmqctl -q set_permissions -p '' guest '.*' '.*' '.*'
rabbitmqctl -q set_permissions -p / guest '.*' '.*' '.*'
if wait_port 127.0.0.1 61613 60; then
  echo "ci-services: RabbitMQ STOMP adapter listening on 127.0.0.1:61613"
else
  echo "ci-services: RabbitMQ STOMP adapter did not open 127.0.0.1:61613" >&2
  exit 1
fi
