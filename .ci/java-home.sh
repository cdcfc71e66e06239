# Sourced by ./art4j and .ci/run: points JAVA_HOME (and PATH) at a JDK >= 22, the build's
# release level: the engine's Vector API kernels load weights from java.lang.foreign memory
# segments, final since JDK 22 (a preview in 21, whose class files run on 21 only).
# Looks at $JAVA_HOME, the java on the PATH, then /usr/lib/jvm/*; returns 1 with a message
# on stderr when none is found.
art4j_java_major() { # $1 = a JDK home; prints its feature version (17, 21, 25, ...)
  local v=""
  if [ -f "$1/release" ]; then
    v="$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release")"
  fi
  if [ -z "$v" ] && [ -x "$1/bin/java" ]; then
    v="$("$1/bin/java" -XshowSettings:properties -version 2>&1 \
         | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p')"
  fi
  echo "${v:-0}"
}
art4j_find_java() {
  local candidates=() home
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  if command -v java >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  fi
  for home in /usr/lib/jvm/*; do candidates+=("$home"); done
  for home in "${candidates[@]}"; do
    if [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] && [ "$(art4j_java_major "$home")" -ge 22 ]; then
      export JAVA_HOME="$home"
      export PATH="$JAVA_HOME/bin:$PATH"
      return 0
    fi
  done
  echo "art4j: needs a JDK 22 or later (java and javac), none found in \$JAVA_HOME, on the PATH or under /usr/lib/jvm;" \
       "install one (e.g. Temurin 25) and set JAVA_HOME to it" >&2
  return 1
}
