#!/bin/sh
# gen_oneroster.sh [--schools N] [--staff N] [--students N] [--crlf] DIR
#
# Writes a synthetic district as a OneRoster 1.1 CSV export into DIR
# (manifest.csv, orgs.csv, users.csv, and a classes.csv an import ignores):
# one district org, N schools (default 60) and a department, and N staff
# (default 3000): 2 district administrators, one principal (administrator)
# per school, then teachers with every 8th an aide, every 50th teacher at two
# schools.  Plus N students (default 40000) and a parent, a guardian or a
# relative for every 10th of them, which an import must never take in.
# Deterministic: the same arguments write the same bytes.  Names carry what
# CSV has to quote (commas, quotes, accents).
#
# Ids: district dist-1, schools sch-001..., department dep-1, staff
# stf-00001... (the district administrators first, then the principals in
# school order, then teachers), students stu-000001..., parents par-000001...
# Staff e-mail: <username>@district.example, username first.last<number>.
set -eu
schools=60 staff=3000 students=40000 eol=lf
while [ $# -gt 1 ]; do
	case $1 in
	--schools) schools=$2; shift 2 ;;
	--staff) staff=$2; shift 2 ;;
	--students) students=$2; shift 2 ;;
	--crlf) eol=crlf; shift ;;
	*) echo "gen_oneroster.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
[ $# -eq 1 ] || { echo "usage: gen_oneroster.sh [--schools N] [--staff N] [--students N] [--crlf] DIR" >&2; exit 2; }
dir=$1
mkdir -p "$dir"

awk -v schools="$schools" -v staff="$staff" -v students="$students" -v eol="$eol" -v dir="$dir" '
function out(file, line) { printf "%s%s", line, (eol == "crlf" ? "\r\n" : "\n") > (dir "/" file) }
function q(s) { gsub(/"/, "\"\"", s); return "\"" s "\"" }
function lower(s) { return tolower(s) }
function plain(s) { gsub(/[^A-Za-z]/, "", s); return tolower(s) }
BEGIN {
	split("Lincoln Washington Jefferson Roosevelt Franklin Madison Jackson Adams Kennedy Hamilton " \
	      "Riverside Lakeview Hillcrest Oakwood Maplewood Cedar Pinecrest Brookside Sunnyvale Westfield", place, " ")
	split("Elementary School|Middle School|High School", kind, "|")
	split("Ana Ben Chloé Dmitri Elena Farid Grace Hiro Ines Jamal Kira Liam Maya Noor Omar Priya Quinn Rosa Sami Tess", given, " ")
	split("Ruiz|Okafor|Nguyen|O'\''Brien|Smith|García|Kowalski|Haddad|Chen|Jones|Müller|Patel|Rossi|Dubois|Kim|Novak|Silva|Berg|Adeyemi|Larsen", family, "|")

	out("manifest.csv", "propertyName,value")
	out("manifest.csv", "manifest.version,1.0")
	out("manifest.csv", "oneroster.version,1.1")
	n = split("academicSessions categories classes classResources courses courseResources demographics " \
	          "enrollments lineItems orgs resources results users", files, " ")
	for (i = 1; i <= n; i++)
		out("manifest.csv", "file." files[i] "," ((files[i] == "orgs" || files[i] == "users" || files[i] == "classes") ? "bulk" : "absent"))
	out("manifest.csv", "source.systemName,gen_oneroster.sh")
	out("manifest.csv", "source.systemCode,gen")

	out("orgs.csv", "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId")
	out("orgs.csv", "dist-1,,,\"Kindling Unified School District\",district,KUSD,")
	for (s = 1; s <= schools; s++) {
		name = place[(s - 1) % 20 + 1] " " kind[int((s - 1) / 20) % 3 + 1]
		if (s > 60) name = name " " int((s - 1) / 60) + 1
		out("orgs.csv", sprintf("sch-%03d,,,%s,school,%d,dist-1", s, q(name), 1000 + s))
	}
	out("orgs.csv", "dep-1,,,\"Science Department, Lincoln\",department,,sch-001")

	out("classes.csv", "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods")
	out("classes.csv", "cls-1,,,Algebra I,09,crs-1,ALG1,scheduled,Room 1,sch-001,term-1,Math,,1")

	out("users.csv", "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password")
	for (u = 1; u <= staff; u++) {
		g = given[(u - 1) % 20 + 1]
		f = family[int((u - 1) / 20) % 20 + 1]
		if (u <= 2) { role = "administrator"; orgs = "dist-1" }
		else if (u <= 2 + schools) { role = "administrator"; orgs = sprintf("sch-%03d", u - 2) }
		else {
			t = u - 2 - schools
			role = (t % 8 == 0) ? "aide" : "teacher"
			sc = (t - 1) % schools + 1
			orgs = sprintf("sch-%03d", sc)
			if (t % 50 == 0) orgs = orgs "," sprintf("sch-%03d", sc % schools + 1)
			if (t % 97 == 0) orgs = "dep-1"
		}
		user = plain(g) "." plain(f) u
		out("users.csv", sprintf("stf-%05d,,,true,%s,%s,%s,,%s,%s,,,%s,,,,,", u, q(orgs), role, user,
		    q(g), q(f), user "@district.example"))
	}
	for (k = 1; k <= students; k++) {
		sc = (k - 1) % schools + 1
		out("users.csv", sprintf("stu-%06d,,,true,sch-%03d,student,s%06d,,%s,%s,,,s%06d@students.district.example,,,,%02d,",
		    k, sc, k, q("Child" k), q("Family, " (k % 97)), k, k % 12 + 1))
		if (k % 10 == 0) {
			split("parent guardian relative", kinds, " ")
			out("users.csv", sprintf("par-%06d,,,true,sch-%03d,%s,p%06d,,Parent,\"of \"\"%d\"\"\",,,p%06d@home.example,,,stu-%06d,,",
			    k / 10, sc, kinds[(k / 10) % 3 + 1], k / 10, k, k / 10, k))
		}
	}
}'
