"""check_record: identifiers inside canonical records must pass their standards."""

from __future__ import annotations

from schemas.checks import check_record
from tests.samples import SAMPLES, case_event, certificate, material


def test_valid_samples_pass() -> None:
    for name, make in SAMPLES.items():
        assert check_record(name, make()) == [], name


def test_bad_identifiers_are_each_reported_with_field_and_code() -> None:
    event = case_event()
    event["region_code"] = "990802"
    event["applicant"]["id_number"] = event["applicant"]["id_number"][:-1] + "0"
    errors = check_record("CaseEvent", event)
    assert {(e.field, e.code) for e in errors} == {
        ("region_code", "REGION_CODE_PROVINCE"),
        ("applicant.id_number", "USCC_CHECK"),
    }


def test_a_bad_resident_id_is_masked_in_the_message() -> None:
    m = material()
    good = m["holder"]["id_number"]
    m["holder"]["id_number"] = good[:-1] + ("0" if good[-1] != "0" else "1")
    [error] = check_record("Material", m)
    assert error.code == "ID_NUMBER_CHECK"
    assert error.field == "holder.id_number"
    assert m["holder"]["id_number"] not in str(error)
    assert m["holder"]["id_number"][:6] in str(error)


def test_certificate_region_is_checked() -> None:
    cert = certificate()
    cert["region_code"] = "33080"
    assert [e.code for e in check_record("Certificate", cert)] == ["REGION_CODE_FORMAT"]


def test_an_identifier_that_passed_once_is_still_checked_in_other_records() -> None:
    good = case_event()
    assert check_record("CaseEvent", good) == []
    assert check_record("CaseEvent", good) == []  # remembered as passing
    bad = case_event()
    bad["applicant"]["id_number"] = good["applicant"]["id_number"][:-1] + "0"
    bad["region_code"] = "990802"
    for _ in range(2):  # a failure is never remembered: reported each time, with its field
        errors = check_record("CaseEvent", bad)
        assert [(e.field, e.code) for e in errors] == [
            ("region_code", "REGION_CODE_PROVINCE"),
            ("applicant.id_number", "USCC_CHECK"),
        ]


def test_identifiers_that_pass_are_written_back_in_their_standard_form() -> None:
    """Full-width digits, a lower-case check character and stray spaces pass the check, and
    the record then carries the standard form (issue #12, finding 12), every time: also when
    the value is remembered as passing."""
    for _ in range(2):
        event = case_event("ＳＬ３３０８０２２０２６１１２３０００１")
        standard = event["applicant"]["id_number"]
        event["applicant"]["id_number"] = " " + standard.lower().replace("9", "９") + " "
        event["region_code"] = "３３０８０２"
        assert check_record("CaseEvent", event) == []
        assert event["applicant"]["id_number"] == standard
        assert event["region_code"] == "330802"
        assert event["case_no"] == "SL330802202611230001"
        m = material()
        holder = m["holder"]["id_number"]
        m["holder"]["id_number"] = holder.lower().replace("3", "３")
        assert check_record("Material", m) == []
        assert m["holder"]["id_number"] == holder
