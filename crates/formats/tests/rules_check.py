import sys
import idstools.rule
allowed = set(sys.argv[2].split(","))
sids = []
for number, line in enumerate(open(sys.argv[1]), 1):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    rule = idstools.rule.parse(line)
    if rule is None:
        sys.exit(f"line {number}: idstools cannot parse {line}")
    unexpected = [option["name"] for option in rule["options"] if option["name"] not in allowed]
    if unexpected:
        sys.exit(f"line {number}: unexpected options {unexpected} in {line}")
    if not rule["msg"].startswith("watchfire "):
        sys.exit(f"line {number}: message {rule['msg']!r}")
    if rule["sid"] in sids:
        sys.exit(f"line {number}: sid {rule['sid']} repeats")
    sids.append(rule["sid"])
print(len(sids), min(sids))
