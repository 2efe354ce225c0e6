#!/bin/sh
# demo.sh BIN DATA - make a sample data folder (once) and serve it: five
# sample schools, eight short clips made here with the ffmpeg tool and put
# through the real pipeline, and three accounts.
set -eu
bin=$1
data=$2
if [ ! -f "$data/catalogue.db" ]; then
	"$bin" seed --data "$data"
	clips=$(mktemp -d)
	trap 'rm -rf "$clips"' EXIT
	# source|school|practices|teacher|grade|subject|title
	while IFS='|' read -r src school practices teacher grade subject title; do
		f="$clips/$(echo "$title" | tr ' ' '_').mp4"
		ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i "$src=size=640x360:rate=25" \
			-f lavfi -i "sine=frequency=330" -t 8 -c:v libx264 -pix_fmt yuv420p \
			-c:a aac "$f"
		"$bin" ingest --data "$data" --school "$school" --practice "$practices" \
			--teacher "$teacher" --grade "$grade" --subject "$subject" --title "$title" \
			--recorded 2026-10-0$(( ${#title} % 9 + 1 )) --wait "$f" </dev/null
	done <<-'CLIPS'
	testsrc2|north-high|station-rotation,blended-learning|Ana Ruiz|9-12|math|Station rotation in algebra
	smptehdbars|riverside-elementary|student-choice|Ben Okafor|3-5|reading|Choice boards for reading
	mandelbrot|lakeview-middle|formative-assessment|Chloe Martin|6-8|science|Exit tickets that change tomorrow
	life|westside-academy|peer-feedback,classroom-discussion|Dev Patel|9-12|writing|Peer review in writing workshop
	rgbtestsrc|eastgate-primary|differentiation,flexible-grouping|Elif Kaya|K-2|math|Flexible groups for number sense
	testsrc|north-high|mastery-tracking|Farah Haddad|9-12|history|Mastery tracking wall
	yuvtestsrc|riverside-elementary|project-based-learning|Gus Lindqvist|3-5|science|Launching a garden project
	cellauto|lakeview-middle|blended-learning,student-choice|Hana Sato|6-8|languages|Self-paced playlists in Spanish
	CLIPS
	"$bin" user add --name demo-admin --role admin --data "$data" > "$data/demo-admin.token"
	"$bin" user add --name demo-coach --role coach --school north-high --data "$data" \
		> "$data/demo-coach.token"
	"$bin" user add --name demo-teacher --role teacher --school riverside-elementary \
		--data "$data" > "$data/demo-teacher.token"
	chmod 600 "$data"/*.token
fi
echo
echo "Sample data is in $data. API tokens for the demo users:"
for who in admin coach teacher; do
	echo "  $who: $(tail -n 1 "$data/demo-$who.token")"
done
echo "Try:  curl -H \"Authorization: Bearer \$(tail -n 1 $data/demo-teacher.token)\" \\"
echo "        'http://127.0.0.1:8080/api/v1/clips?practice=station-rotation'"
echo "Stop the server with Ctrl-C."
echo
exec "$bin" serve --data "$data"
