from hatui.secrets import Secret, redact


def test_redact_known_secret_and_url_credentials():
    Secret("pa55-word-xyz", "env X")
    text = "login failed for amqp://canary:pa55-word-xyz@127.0.0.1:5672/ (password pa55-word-xyz)"
    out = redact(text)
    assert "pa55-word-xyz" not in out
    assert "canary" not in out
    assert "amqp://***@127.0.0.1:5672/" in out


def test_secret_repr_never_shows_value():
    s = Secret("hunter2-long", "file /etc/x")
    assert "hunter2" not in repr(s) and "hunter2" not in str(s) and "hunter2" not in f"{s}"
    assert s.reveal() == "hunter2-long"
