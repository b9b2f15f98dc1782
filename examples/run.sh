#!/usr/bin/env bash
# Builds examples/ the way a user would: against unetmm as installed artifacts, through the BOM.
# Installs the project into a throwaway local repository (seeded from ~/.m2 so no more network is
# needed than the build itself needs), builds the examples against it and runs each; fails on any
# non-zero exit. Never installs into ~/.m2.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(mktemp -d /tmp/unetmm-examples-m2.XXXXXX)
trap 'rm -rf "$REPO"' EXIT
if [[ -d "$HOME/.m2/repository" ]]; then
  cp -a "$HOME/.m2/repository/." "$REPO/"
fi
rm -rf "$REPO/org/unetmm" examples/target   # only what this run installs
mvn -B -q -DskipTests install -Dmaven.repo.local="$REPO"
mvn -B -q -f examples/pom.xml -Dmaven.repo.local="$REPO" package
CP="examples/target/unetmm-examples.jar:examples/target/lib/*"
for main in org.unetmm.examples.RawEndpoint org.unetmm.examples.KeyValue; do
  echo "examples/run.sh: $main"
  timeout 120 java -cp "$CP" "$main"
done
echo "examples/run.sh: all examples passed"
