"""Which system packages only build, and which runtime library a `-dev`
package is built against (Debian's names by release, and Alpine's), for DF100.

Source: the Depends of each `-dev` package in the Debian archive
(packages.debian.org, bookworm; bullseye, buster and trixie where the
library's name differs there) and in Alpine's aports (pkgs.alpinelinux.org).
The bookworm table was checked with `apt-cache depends` on bookworm. A
library renamed for trixie's 64-bit time_t (`libssl3t64`) still answers to
its bookworm name, which apt resolves to it.
"""

from __future__ import annotations

# Compilers, headers and tools a build needs and a runtime does not.
BUILD_ONLY = frozenset((
    "build-essential", "gcc", "g++", "make", "cmake", "pkg-config", "pkgconf", "autoconf", "automake", "libtool",
    "git", "curl", "wget", "ca-certificates", "gnupg", "unzip", "xz-utils", "patch", "musl-dev", "libc-dev",
    "libc6-dev", "linux-headers", "python3-dev", "python-dev", "cargo", "rustc", "golang", "golang-go", "clang",
    "llvm", "binutils", "bison", "flex", "swig", "gfortran",
    # Alpine's
    "build-base", "alpine-sdk",
))

# What only compiles: a runtime stage left with none of these, nor a `-dev`
# package, has nothing a split would take away (see _split/gain.py).
TOOLCHAIN = frozenset((
    "build-essential", "gcc", "g++", "make", "cmake", "autoconf", "automake", "libtool", "musl-dev", "libc-dev",
    "libc6-dev", "linux-headers", "python3-dev", "python-dev", "python2-dev", "cargo", "rustc", "golang", "golang-go",
    "clang", "llvm", "gfortran", "nasm", "swig", "build-base", "alpine-sdk",
))


def is_toolchain(package: str) -> bool:
    """A compiler, a build tool or a header package (`-dev`, `-devel`)."""
    return package in TOOLCHAIN or package.endswith(("-dev", "-devel"))


# -dev package -> the library a program built against it loads at run time.
RUNTIME_LIBS = {
    "libpq-dev": "libpq5",
    "libxml2-dev": "libxml2",
    "libxslt1-dev": "libxslt1.1",
    "libffi-dev": "libffi8",
    "libssl-dev": "libssl3",
    "libjpeg-dev": "libjpeg62-turbo",
    "libjpeg62-turbo-dev": "libjpeg62-turbo",
    "zlib1g-dev": "zlib1g",
    "libpng-dev": "libpng16-16",
    "libfreetype6-dev": "libfreetype6",
    "libfreetype-dev": "libfreetype6",
    "libtiff-dev": "libtiff6",
    "libtiff5-dev": "libtiff6",
    "libwebp-dev": "libwebp7",
    "liblcms2-dev": "liblcms2-2",
    "libopenjp2-7-dev": "libopenjp2-7",
    "libmariadb-dev": "libmariadb3",
    "libmariadb-dev-compat": "libmariadb3",
    "default-libmysqlclient-dev": "libmariadb3",
    "libmariadbclient-dev": "libmariadb3",
    "libmysqlclient-dev": "libmariadb3",
    "libsqlite3-dev": "libsqlite3-0",
    "libyaml-dev": "libyaml-0-2",
    "libgeos-dev": "libgeos-c1v5",
    "libgdal-dev": "libgdal32",
    "libproj-dev": "libproj25",
    "libldap2-dev": "libldap-2.5-0",
    "libsasl2-dev": "libsasl2-2",
    "libkrb5-dev": "libkrb5-3",
    "libcurl4-openssl-dev": "libcurl4",
    "libbz2-dev": "libbz2-1.0",
    "liblzma-dev": "liblzma5",
    "libzstd-dev": "libzstd1",
    "libsnappy-dev": "libsnappy1v5",
    "libblas-dev": "libblas3",
    "liblapack-dev": "liblapack3",
    "libopenblas-dev": "libopenblas0",
    "libgmp-dev": "libgmp10",
    "libmagic-dev": "libmagic1",
    "libcairo2-dev": "libcairo2",
    "libpango1.0-dev": "libpango-1.0-0",
    "libgirepository1.0-dev": "libgirepository-1.0-1",
    "libsndfile1-dev": "libsndfile1",
    "libportaudio2": "libportaudio2",
    "portaudio19-dev": "libportaudio2",
    "libglib2.0-dev": "libglib2.0-0",
    "libusb-1.0-0-dev": "libusb-1.0-0",
    "libudev-dev": "libudev1",
    "libsystemd-dev": "libsystemd0",
    "libre2-dev": "libre2-9",
    "libhdf5-dev": "libhdf5-103-1",
    "libgl1-mesa-dev": "libgl1",
    "libxrender-dev": "libxrender1",
    "libxext-dev": "libxext6",
    "libsm-dev": "libsm6",
    "unixodbc-dev": "unixodbc",
    "freetds-dev": "libsybdb5",
    "libedit-dev": "libedit2",
    "libreadline-dev": "libreadline8",
    "libncurses-dev": "libncursesw6",
    "libncurses5-dev": "libncursesw6",
    "libevent-dev": "libevent-2.1-7",
    "libuv1-dev": "libuv1",
    "libsodium-dev": "libsodium23",
    "libzmq3-dev": "libzmq5",
    "libcap-dev": "libcap2",
    "libacl1-dev": "libacl1",
    "libmemcached-dev": "libmemcached11",
}

# Where another Debian release names the library otherwise (bookworm's above).
RELEASE_RUNTIME_LIBS = {
    "bullseye": {
        "libffi-dev": "libffi7", "libssl-dev": "libssl1.1", "libtiff-dev": "libtiff5", "libtiff5-dev": "libtiff5",
        "libwebp-dev": "libwebp6", "libgdal-dev": "libgdal28", "libproj-dev": "libproj19",
        "libldap2-dev": "libldap-2.4-2",
    },
    "buster": {
        "libffi-dev": "libffi6", "libssl-dev": "libssl1.1", "libtiff-dev": "libtiff5", "libtiff5-dev": "libtiff5",
        "libwebp-dev": "libwebp6", "libgdal-dev": "libgdal20", "libproj-dev": "libproj13",
        "libldap2-dev": "libldap-2.4-2", "libre2-dev": "libre2-5", "libreadline-dev": "libreadline7",
        "libevent-dev": "libevent-2.1-6", "libhdf5-dev": "libhdf5-103",
    },
    "trixie": {
        "libgdal-dev": "libgdal36", "libldap2-dev": "libldap2", "libldap-dev": "libldap2",
        "libhdf5-dev": "libhdf5-310", "libre2-dev": "libre2-11",
    },
}


# The same on Alpine, whose names differ (libffi-dev installs libffi, not
# libffi8): a Debian name in `apk add` fails the build.
ALPINE_RUNTIME_LIBS = {
    "libffi-dev": "libffi",
    "openssl-dev": "libssl3",
    "libressl-dev": "libressl",
    "postgresql-dev": "libpq",
    "libpq-dev": "libpq",
    "libxml2-dev": "libxml2",
    "libxslt-dev": "libxslt",
    "jpeg-dev": "libjpeg-turbo",
    "libjpeg-turbo-dev": "libjpeg-turbo",
    "zlib-dev": "zlib",
    "libpng-dev": "libpng",
    "freetype-dev": "freetype",
    "mariadb-dev": "mariadb-connector-c",
    "mariadb-connector-c-dev": "mariadb-connector-c",
    "sqlite-dev": "sqlite-libs",
    "yaml-dev": "yaml",
    "gmp-dev": "gmp",
    "cairo-dev": "cairo",
    "openjpeg-dev": "openjpeg",
    "tiff-dev": "tiff",
    "libwebp-dev": "libwebp",
    "lcms2-dev": "lcms2",
    "lapack-dev": "lapack",
    "openblas-dev": "openblas",
    "pcre-dev": "pcre",
    "geos-dev": "geos",
    "gdal-dev": "gdal",
    "proj-dev": "proj",
    "hdf5-dev": "hdf5",
    "unixodbc-dev": "unixodbc",
    "libsodium-dev": "libsodium",
    "zeromq-dev": "libzmq",
    "librdkafka-dev": "librdkafka",
    "cyrus-sasl-dev": "libsasl",
    "krb5-dev": "krb5-libs",
    "bzip2-dev": "libbz2",
    "xz-dev": "xz-libs",
    "zstd-dev": "zstd-libs",
    "readline-dev": "readline",
    "ncurses-dev": "ncurses-libs",
    "libevent-dev": "libevent",
    "libuv-dev": "libuv",
    "glib-dev": "glib",
    "pango-dev": "pango",
    "libusb-dev": "libusb",
    "file-dev": "libmagic",
    "openldap-dev": "libldap",
}


# Python packages pip builds from source against a system library: on a full
# python image that library's -dev package is there already (buildpack-deps),
# so the build installs nothing, yet the slim runtime needs the library.
# Only when the RUN names the package (a requirements file is not read).
PIP_SOURCE_BUILDS = {
    "psycopg2": ("libpq-dev", "postgresql-dev"),
    "mysqlclient": ("default-libmysqlclient-dev", "mariadb-dev"),
    "pyodbc": ("unixodbc-dev", "unixodbc-dev"),
    "python-ldap": ("libldap2-dev", "openldap-dev"),
    "lxml": ("libxml2-dev", "libxml2-dev"),
}


def runtime_library(package: str, alpine: bool = False, release: str = "bookworm") -> str | None:
    """The library ``package`` (a `-dev` package) is built against, by its
    name on Alpine or in the Debian ``release``; None when dfix does not know."""
    if alpine:
        return ALPINE_RUNTIME_LIBS.get(package)
    return RELEASE_RUNTIME_LIBS.get(release, {}).get(package) or RUNTIME_LIBS.get(package)
