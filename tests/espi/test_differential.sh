#!/usr/bin/env bash
# test_differential.sh -- our schema checker must agree with the official XSDs.
#
# For every sample feed in $ESPIGATE_SHARED/espi/samples, and for a corpus of
# broken (and a few deliberately still-valid) mutants generated here from
# those samples, compare two verdicts:
#   ours:     "$ESPIGATE" validate --level schema FILE   (0 = valid, 65 = invalid)
#   official: $ESPIGATE_SHARED/espi/schemas/validate FILE (xmllint; 0 = valid)
# Any disagreement fails the test; all of them are listed.
#
# Skips (exit 77) when the official schemas or xmllint are absent, or when
# the espigate binary does not implement `validate --level schema` yet.
set -u

shared=${ESPIGATE_SHARED:-}
schemas="$shared/espi/schemas"
samples="$shared/espi/samples"
if [ -z "$shared" ] || [ ! -x "$schemas/validate" ] || [ ! -d "$samples" ]; then
    echo "SKIP: official schemas not found (set ESPIGATE_SHARED; need espi/schemas/validate)" >&2
    exit 77
fi
if ! command -v xmllint >/dev/null 2>&1; then
    echo "SKIP: xmllint is not installed" >&2
    exit 77
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP: python3 is needed to generate the mutants" >&2
    exit 77
fi
if [ -z "${ESPIGATE:-}" ] || [ ! -x "$ESPIGATE" ]; then
    echo "SKIP: espigate binary not found (ESPIGATE=${ESPIGATE:-})" >&2
    exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/espigate-diff.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

# Probe: a root that is not a feed must be rejected; a CLI without the
# schema level accepts it (or errors with another status).
printf '<notAFeed/>\n' >"$work/probe.xml"
"$ESPIGATE" validate --level schema "$work/probe.xml" >/dev/null 2>&1
if [ $? -ne 65 ]; then
    echo "SKIP: '$ESPIGATE validate --level schema' is not implemented yet" >&2
    exit 77
fi
rm -f "$work/probe.xml"

# ---- mutants ---------------------------------------------------------------
# Each mutant is (name, sample, regex, replacement): the first match in the
# sample is replaced.  A regex that no longer matches is itself a failure,
# so the corpus cannot silently shrink.
python3 - "$samples" "$work" <<'PY' || { echo "FAIL: could not generate mutants" >&2; exit 1; }
import re, sys
samples, out = sys.argv[1], sys.argv[2]
G = 'gba_Gas.xml'
F = 'gba_15minLP_15Days.xml'
U = 'openespi_test_usage_data_01.xml'
A = 'openespi_Authorization-Entry-Anonymized.xml'
AI = 'openespi_ApplicationInformation-Entry-Anonymized.xml'
M = 'openespi_Multiple-Authorization-Feed-Anonymized.xml'
mutants = [
    # order and presence
    ('rt_swap_children', F, r'(<commodity>1</commodity>)(\s*)(<currency>840</currency>)', r'\3\2\1'),
    ('rt_swap_first_two', F, r'(<accumulationBehaviour>4</accumulationBehaviour>)(\s*)(<commodity>1</commodity>)', r'\3\2\1'),
    ('sc_kind_missing', G, r'<kind>1</kind>', ''),
    ('ltp_tzoffset_missing', G, r'<tzOffset>-18000</tzOffset>', ''),
    ('ltp_dstoffset_missing', G, r'<dstOffset>3600</dstOffset>', ''),
    ('dti_duration_missing', G, r'<duration>2592000</duration>', ''),
    ('auth_token_type_missing', A, r'<espi:token_type>Bearer</espi:token_type>', ''),
    ('up_unknown_element', G, r'<ServiceCategory>', '<ServiceDeliveryPoint/><ServiceCategory>'),
    ('up_child_wrong_ns', G, r'<kind>1</kind>', '<kind xmlns="http://naesb.org/espi/customer">1</kind>'),
    ('rt_nested_in_mr', G, r'<MeterReading xmlns="http://naesb.org/espi"/>',
     '<MeterReading xmlns="http://naesb.org/espi"><ReadingType/></MeterReading>'),
    ('ir_duplicate_value', G, r'(<value>72609</value>)', r'\1<value>1</value>'),
    # text where only elements may be
    ('text_in_up', G, r'<ServiceCategory>', 'oops<ServiceCategory>'),
    ('text_in_feed', G, r'<title>ThirdPartyX Batch Feed</title>', r'\g<0>stray text'),
    ('text_in_category', G, r'<title>ThirdPartyX Batch Feed</title>', r'\g<0><category term="x">t</category>'),
    # values
    ('status_300', G, r'<ServiceCategory>', '<status>300</status><ServiceCategory>'),
    ('status_before_sc', G, r'</ServiceCategory>', '</ServiceCategory><status>255</status>'),
    ('intervallength_neg', F, r'<intervalLength>900</intervalLength>', '<intervalLength>-1</intervalLength>'),
    ('intervallength_plus', F, r'<intervalLength>900</intervalLength>', '<intervalLength>+900</intervalLength>'),
    ('value_1e20', G, r'<value>72609</value>', '<value>1e20</value>'),
    ('value_int48_max', G, r'<value>72609</value>', '<value>140737488355328</value>'),
    ('value_int48_over', G, r'<value>72609</value>', '<value>140737488355329</value>'),
    ('value_decimal', G, r'<value>72609</value>', '<value>72.609</value>'),
    ('start_empty', G, r'<start>1301630400</start>', '<start></start>'),
    ('uom_padded_union', F, r'<uom>72</uom>', '<uom> 72 </uom>'),
    ('pow10_padded_union', F, r'<powerOfTenMultiplier>0</powerOfTenMultiplier>',
     '<powerOfTenMultiplier>\n   -3\n</powerOfTenMultiplier>'),
    ('intervallength_padded', F, r'<intervalLength>900</intervalLength>', '<intervalLength> 900 </intervalLength>'),
    ('uom_65536', F, r'<uom>72</uom>', '<uom>65536</uom>'),
    ('phase_code_any_value', F, r'<phase>769</phase>', '<phase>12345</phase>'),
    ('bad_boolean', G, r'</ServiceCategory>', '</ServiceCategory><checkBilling>yes</checkBilling>'),
    ('good_boolean_padded', G, r'</ServiceCategory>', '</ServiceCategory><checkBilling> true </checkBilling>'),
    ('hex_odd', G, r'<dstEndRule>B40E2000</dstEndRule>', '<dstEndRule>B40E200</dstEndRule>'),
    ('hex_too_long', G, r'<dstEndRule>B40E2000</dstEndRule>', '<dstEndRule>B40E200000</dstEndRule>'),
    ('hex_not_hex', G, r'<dstEndRule>B40E2000</dstEndRule>', '<dstEndRule>B40E200G</dstEndRule>'),
    ('oauth_error_unknown', A, r'<espi:token_type>Bearer</espi:token_type>',
     '<espi:token_type>Bearer</espi:token_type><espi:error>' + 'x' * 33 + '</espi:error>'),
    ('string_at_maxlength', G, r'</ServiceCategory>', '</ServiceCategory><servicePriority>' + 'x' * 32 + '</servicePriority>'),
    ('string_over_maxlength', G, r'</ServiceCategory>', '</ServiceCategory><servicePriority>' + 'x' * 33 + '</servicePriority>'),
    ('scope_at_maxlength', A, r'<espi:scope>[^<]*</espi:scope>', '<espi:scope>' + 'é' * 256 + '</espi:scope>'),
    ('scope_over_maxlength', A, r'<espi:scope>[^<]*</espi:scope>', '<espi:scope>' + 'é' * 257 + '</espi:scope>'),
    ('grant_type_unknown', A, r'authorization_code', 'password'),
    ('token_type_lowercase', A, r'<espi:token_type>Bearer', '<espi:token_type>bearer'),
    ('auth_status_any_code', A, r'<espi:status>1</espi:status>', '<espi:status>7</espi:status>'),
    ('uri_bad_escape', A, r'<espi:resourceURI>https://', '<espi:resourceURI>%zz:'),
    # Atom envelope
    ('link_without_href', G, r'<link rel="self" href="/ThirdParty/83e269c1/Batch"/>', '<link rel="self"/>'),
    ('link_without_rel', G, r'<link rel="self" href="/ThirdParty/83e269c1/Batch"/>', '<link href="x"/>'),
    ('link_unknown_attr', G, r'<link rel="self" href="/ThirdParty/83e269c1/Batch"/>',
     '<link rel="self" href="x" foo="1"/>'),
    ('link_length_zero', G, r'<link rel="self" href="/ThirdParty/83e269c1/Batch"/>',
     '<link rel="self" href="x" length="0"/>'),
    ('entry_two_links', A, r'<link href="[^"]*" rel="up" type="espi-feed/Authorization"/>', ''),
    ('entry_single_link', A,
     r'<link href="[^"]*" rel="up"[^>]*/>(\s*<link[^>]*/>)\s*<link href="[^"]*" rel="related"[^>]*/>', r'\1'),
    ('entry_links_split', A, r'(<link href="[^"]*" rel="up" type="espi-feed/Authorization"/>)',
     r'\1<id>urn:uuid:x</id>'),
    ('updated_date_only', G, r'<updated>2012-10-24T00:00:00Z</updated>', '<updated>2012-10-24</updated>'),
    ('updated_padded', G, r'<updated>2012-10-24T00:00:00Z</updated>', '<updated> 2012-10-24T00:00:00Z </updated>'),
    ('updated_feb30', G, r'<updated>2012-10-24T00:00:00Z</updated>', '<updated>2012-02-30T00:00:00Z</updated>'),
    ('updated_offset', G, r'<updated>2012-10-24T00:00:00Z</updated>', '<updated>2012-10-24T00:00:00.250-05:00</updated>'),
    ('title_type_bad', G, r'<title>ThirdPartyX Batch Feed</title>', '<title type="markdown">x</title>'),
    ('title_type_html', G, r'<title>ThirdPartyX Batch Feed</title>', '<title type=" html ">x</title>'),
    ('unknown_in_content', G, r'<MeterReading xmlns="http://naesb.org/espi"/>',
     '<MeterReadings xmlns="http://naesb.org/espi"/>'),
    ('foreign_ns_in_content', G, r'<MeterReading xmlns="http://naesb.org/espi"/>', '<x:thing xmlns:x="urn:x"/>'),
    ('no_ns_in_content', G, r'<MeterReading xmlns="http://naesb.org/espi"/>', '<MeterReading xmlns=""/>'),
    ('text_only_content', G, r'<MeterReading xmlns="http://naesb.org/espi"/>', 'just text'),
    ('customer_in_content', G, r'<MeterReading xmlns="http://naesb.org/espi"/>',
     '<Customer xmlns="http://naesb.org/espi/customer"><customerName>A</customerName></Customer>'),
    ('espi_directly_in_feed', G, r'<link rel="self" href="/ThirdParty/83e269c1/Batch"/>',
     r'\g<0><LocalTimeParameters xmlns="http://naesb.org/espi"><dstEndRule>B40E2000</dstEndRule>'
     r'<dstOffset>3600</dstOffset><dstStartRule>360E2000</dstStartRule><tzOffset>0</tzOffset>'
     r'</LocalTimeParameters>'),
    ('unknown_atom_element', G, r'<title>ThirdPartyX Batch Feed</title>', r'\g<0><subtitle>s</subtitle><foo/>'),
    ('feed_extension_element', G, r'<title>ThirdPartyX Batch Feed</title>', r'\g<0><x:ext xmlns:x="urn:x"/>'),
    ('espi_extension_anything', G, r'(<UsagePoint xmlns="http://naesb.org/espi">)',
     r'\1<extension a="1">any <x xmlns="urn:x"><y/></x></extension><extension/>'),
    ('espi_extension_out_of_order', G, r'<kind>1</kind>\s*</ServiceCategory>',
     '<kind>1</kind></ServiceCategory><extension/>'),
    ('espi_extension_lax_global', G, r'(<UsagePoint xmlns="http://naesb.org/espi">)',
     r'\1<extension><ReadingType><bogus/></ReadingType></extension>'),
    ('xsi_nil', G, r'<MeterReading xmlns="http://naesb.org/espi"/>',
     '<MeterReading xmlns="http://naesb.org/espi" xsi:nil="true"/>'),
    ('espi_attribute', G, r'<MeterReading xmlns="http://naesb.org/espi"/>',
     '<MeterReading xmlns="http://naesb.org/espi" id="1"/>'),
    ('xml_lang_bad', G, r'<feed xmlns="http://www.w3.org/2005/Atom"', '<feed xml:lang="en_US" xmlns="http://www.w3.org/2005/Atom"'),
    # roots
    ('bare_entry_root', G, r'(?s)^.*?<entry>(.*?)</entry>.*$',
     r'<entry xmlns="http://www.w3.org/2005/Atom">\1</entry>\n'),
    ('bare_usagepoint_root', None,
     None, '<UsagePoint xmlns="http://naesb.org/espi"><ServiceCategory><kind>0</kind></ServiceCategory></UsagePoint>\n'),
    ('bare_intervalblock_bad', None, None,
     '<IntervalBlock xmlns="http://naesb.org/espi"><IntervalReading><value>x</value></IntervalReading></IntervalBlock>\n'),
    ('root_not_atom', None, None, '<feed xmlns="urn:not-atom"/>\n'),
    ('root_unknown_espi', None, None, '<Feed xmlns="http://naesb.org/espi"/>\n'),
    ('empty_feed', None, None, '<feed xmlns="http://www.w3.org/2005/Atom"/>\n'),
    # customer resources
    ('cust_account_ok', None, None,
     '<CustomerAccount xmlns="http://naesb.org/espi/customer"><name>n</name><billingCycle>1</billingCycle>'
     '<notifications><methodKind>anything</methodKind><time>1</time><note>n</note>'
     '<customerNotificationKind>k</customerNotificationKind></notifications><accountId>a</accountId>'
     '</CustomerAccount>\n'),
    ('cust_account_out_of_order', None, None,
     '<CustomerAccount xmlns="http://naesb.org/espi/customer"><accountId>a</accountId>'
     '<billingCycle>1</billingCycle></CustomerAccount>\n'),
    ('cust_notification_missing_time', None, None,
     '<CustomerAccount xmlns="http://naesb.org/espi/customer"><notifications><methodKind>call</methodKind>'
     '<note>n</note><customerNotificationKind>k</customerNotificationKind></notifications></CustomerAccount>\n'),
    ('cust_location_usagepoints', None, None,
     '<ServiceLocation xmlns="http://naesb.org/espi/customer"><UsagePoints><UsagePoint>a b</UsagePoint>'
     '<UsagePoint>/x</UsagePoint></UsagePoints><outageBlock>b</outageBlock></ServiceLocation>\n'),
    ('cust_meter_percent_over', None, None,
     '<Meter xmlns="http://naesb.org/espi/customer"><initialLossOfLife>101</initialLossOfLife></Meter>\n'),
    ('cust_meter_float', None, None,
     '<Meter xmlns="http://naesb.org/espi/customer"><MeterMultipliers><kind>kH</kind><value>1.5E3</value>'
     '</MeterMultipliers><intervalLength>900</intervalLength></Meter>\n'),
    ('cust_name_over_64', None, None,
     '<Customer xmlns="http://naesb.org/espi/customer"><name>' + 'n' * 65 + '</name></Customer>\n'),
    ('appinfo_missing_required', AI, r'<espi:client_name>[^<]*</espi:client_name>', ''),
]
failed = 0
for name, sample, rx, repl in mutants:
    if sample is None:
        text = repl
    else:
        src = open(f'{samples}/{sample}', encoding='utf-8').read()
        text, n = re.subn(rx, repl, src, count=1, flags=re.M)
        if n == 0:
            print(f'mutant {name}: pattern no longer matches {sample}', file=sys.stderr)
            failed += 1
            continue
    with open(f'{out}/mut_{name}.xml', 'w', encoding='utf-8') as f:
        f.write(text)
sys.exit(1 if failed else 0)
PY

# ---- compare ---------------------------------------------------------------
pass=0
fail=0
disagree=""
verdict() { if [ "$1" -eq 0 ]; then echo valid; else echo invalid; fi; }
for f in "$samples"/*.xml "$work"/mut_*.xml; do
    "$ESPIGATE" validate --level schema "$f" >/dev/null 2>&1
    ours=$?
    if [ $ours -ne 0 ] && [ $ours -ne 65 ]; then
        fail=$((fail + 1))
        disagree="$disagree
  $(basename "$f"): espigate exited $ours (expected 0 or 65)"
        continue
    fi
    "$schemas/validate" "$f" >/dev/null 2>&1
    official=$?
    if [ "$(verdict $ours)" = "$(verdict $official)" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        disagree="$disagree
  $(basename "$f"): espigate says $(verdict $ours), official XSD says $(verdict $official)"
    fi
done
if [ $fail -ne 0 ]; then
    echo "disagreements:$disagree" >&2
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
