"""Messages of the core: English as a `str`, translatable by their template, kept by the store."""

from kb.messages import PSEUDO, Message, translate


def test_a_message_is_its_english_text_with_its_field():
    message = Message("Keep this to %(max)s characters.", field="contact", max=1000)
    assert message == "contact: Keep this to 1000 characters."
    assert (message.template, message.values, message.field) == ("Keep this to %(max)s characters.",
                                                                   {"max": 1000}, "contact")


def test_translation_uses_the_template_and_then_the_values():
    message = Message("%(kind)s of %(twin)s and %(pilot)s on %(date)s recorded by %(user)s", kind=Message("Workshop"),
                      twin="Oulu", pilot="Helsinki", date="2026-12-01", user="hel")
    assert translate(message, "en") == "Workshop of Oulu and Helsinki on 2026-12-01 recorded by hel"
    shown = translate(message, PSEUDO)
    assert shown.startswith("⟦") and "Oulu" in shown and "⟦Wõrkshõp" in shown  # the inner message translated too
    assert translate(message, "sv") != translate(message, "en") and "Oulu" in translate(message, "sv")
    assert translate(Message("70 % of heat"), "en") == "70 % of heat"  # no values: no % formatting


def test_the_pseudo_locale_wraps_only_what_the_catalogues_hold():
    assert translate("Search practices", PSEUDO).startswith("⟦Séárçh práçtîçés")
    assert translate("a sentence nobody marked", PSEUDO) == "a sentence nobody marked"  # so that it shows


def test_a_kept_message_comes_back_and_older_plain_text_stays_as_it_was():
    message = Message("%(twin)s keeps your practice “%(title)s”", twin="Oulu", title="Heat pumps")
    again = Message.loads(message.dumps())
    assert isinstance(again, Message) and again == message and again.values == message.values
    assert Message.loads("Oulu keeps your practice “Heat pumps”") == "Oulu keeps your practice “Heat pumps”"
    assert not isinstance(Message.loads('{"message": broken'), Message)
