"""Anomaly mode: remember where each op was created and stop at the first NaN/inf gradient."""


class _State:
    enabled = False


state = _State()


class detect_anomaly:
    """Context manager: a backward that produces NaN or inf raises RuntimeError naming the forward op."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self._previous = state.enabled
        state.enabled = True
        return self

    def __exit__(self, *exc):
        state.enabled = self._previous
        return False


class set_detect_anomaly(detect_anomaly):
    def __init__(self, mode, check_nan=True):
        self.check_nan = check_nan
        self._previous = state.enabled
        state.enabled = bool(mode)

    def __enter__(self):
        return self


def is_anomaly_enabled():
    return state.enabled
