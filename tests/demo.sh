#!/bin/sh
# demo.sh BIN DATA - seed a sample data folder (once) and serve it.
set -eu
bin=$1
data=$2
if [ ! -f "$data/catalogue.db" ]; then
	"$bin" seed --data "$data" --clips 300
	"$bin" user add --name demo-admin --role admin --data "$data" > "$data/demo-admin.token"
	"$bin" user add --name demo-teacher --role teacher --school north-high --data "$data" \
		> "$data/demo-teacher.token"
	chmod 600 "$data"/*.token
fi
echo
echo "Sample data is in $data. API tokens for the demo users:"
echo "  admin:   $(tail -n 1 "$data/demo-admin.token")"
echo "  teacher: $(tail -n 1 "$data/demo-teacher.token")"
echo "Try:  curl -H \"Authorization: Bearer \$(tail -n 1 $data/demo-teacher.token)\" \\"
echo "        'http://127.0.0.1:8080/api/v1/clips?practice=station-rotation&per_page=3'"
echo "Stop the server with Ctrl-C."
echo
exec "$bin" serve --data "$data"
