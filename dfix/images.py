"""What an image name says about the system inside it (by name only)."""

from __future__ import annotations

import re

DEBIAN, ALPINE, RHEL, SUSE, BUSYBOX, DISTROLESS, SCRATCH, WINDOWS, UNKNOWN = (
    "debian", "alpine", "rhel", "suse", "busybox", "distroless", "scratch", "windows", "unknown",
)

_BY_NAME = [
    (re.compile(r"(^|/)scratch$"), SCRATCH),
    (re.compile(r"distroless|chainguard|wolfi"), DISTROLESS),
    (re.compile(r"windows|servercore|nanoserver|dotnet/framework"), WINDOWS),
    (re.compile(r"alpine"), ALPINE),
    (re.compile(r"(^|/)busybox(:|$)"), BUSYBOX),
    (re.compile(r"ubi\d|ubi-|redhat|rhel|centos|fedora|rocky|alma|oraclelinux|amazonlinux|amzn|photon|mariner|azurelinux"), RHEL),
    (re.compile(r"suse|sles|leap|tumbleweed"), SUSE),
    (re.compile(r"debian|ubuntu|buster|bullseye|bookworm|trixie|jammy|focal|noble|bionic|slim"), DEBIAN),
]
# Official images that are Debian-based unless their tag says otherwise.
_DEBIAN_BY_DEFAULT = re.compile(
    r"(^|/)(python|node|ruby|golang|rust|openjdk|eclipse-temurin|maven|gradle|php|perl|nginx|httpd|postgres|mysql|"
    r"mariadb|redis|mongo|buildpack-deps|haproxy|tomcat|elixir|erlang|haskell|julia|r-base|gcc|swift|clojure|"
    r"node-red|wordpress|drupal|ghost|jenkins/jenkins|sonarqube|rabbitmq|memcached|elasticsearch|kibana|nextcloud)(:|@|$)"
)


def family_of_image_name(image: str) -> str:
    """The family an image name tells, or UNKNOWN."""
    image = image.lower()
    for pattern, name in _BY_NAME:
        if pattern.search(image):
            return name
    if _DEBIAN_BY_DEFAULT.search(image):
        return DEBIAN
    return UNKNOWN
