#!/usr/bin/env bash
# Install Debian's headless Java runtime for tests/test_spark.py (pyspark starts a JVM) and the
# PostgreSQL JDBC driver for its spark-extract --jdbc-url test, only what is missing.
# Non-interactive; safe to call more than once. Called from .ci/run.
set -euo pipefail

JDBC_JAR=/usr/share/java/postgresql.jar

have_java() {
    { [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; } || command -v java >/dev/null 2>&1
}

wanted=()
have_java || wanted+=(default-jre-headless)
[ -f "$JDBC_JAR" ] || wanted+=(libpostgresql-jdbc-java)
if [ ${#wanted[@]} -eq 0 ]; then
    echo "install-java: java and $JDBC_JAR found, nothing to install"
    exit 0
fi

. "$(dirname "$0")/apt.sh"
apt_install install-java "${wanted[@]}" || { [ $? -eq 2 ] && { echo "install-java: the Spark tests will skip" >&2; exit 0; }; exit 1; }
if have_java; then
    echo "install-java: java: $(command -v java)"
else
    echo "install-java: default-jre-headless installed but java not found on PATH" >&2
    exit 1
fi
