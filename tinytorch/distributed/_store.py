"""Key-value stores: ``Store`` (the interface), ``HashStore`` (in one process) and ``PrefixStore``
(a namespace over another store), with ``torch.distributed``'s methods and return types.

tinytorch's ranks meet through MPI, so no store is needed to start a job; these are for programs
that use a store themselves (and for user ``Store`` subclasses). Values are bytes: ``set`` takes a
str (encoded as UTF-8) or bytes, ``get`` returns bytes, as PyTorch's do.
"""

import datetime
import threading
import time

from ._errors import DistStoreError

_DEFAULT_TIMEOUT = datetime.timedelta(minutes=5)  # c10d's Store::kDefaultTimeout


def _check_key(method, key):
    if not isinstance(key, (str, bytes)):
        raise TypeError(f"{method}(): incompatible function arguments: key must be a str, got {type(key).__name__}")
    return key.decode() if isinstance(key, bytes) else key


def _check_keys(method, keys):
    if isinstance(keys, (str, bytes)) or not hasattr(keys, "__iter__"):
        raise TypeError(f"{method}(): incompatible function arguments: keys must be a sequence of str, "
                        f"got {type(keys).__name__}")
    return [_check_key(method, key) for key in keys]


def _as_bytes(method, value):
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    raise TypeError(f"{method}(): incompatible function arguments: value must be a str or bytes, got {type(value).__name__}")


def _check_timeout(method, timeout):
    if not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"{method}(): incompatible function arguments: timeout must be a datetime.timedelta, "
                        f"got {type(timeout).__name__}")
    return timeout


class Store:
    """The interface of a key-value store shared by the ranks of a job.

    A subclass implements ``set``, ``get``, ``add``, ``compare_set``, ``check``, ``wait``,
    ``delete_key`` and ``num_keys``; a method it leaves out raises ``RuntimeError`` as PyTorch's
    base ``Store`` does. ``timeout`` (5 minutes by default) bounds ``get`` and ``wait``.
    """

    def __init__(self):
        self._timeout = _DEFAULT_TIMEOUT

    @property
    def timeout(self):
        """How long ``get`` and ``wait`` wait for a key (a ``datetime.timedelta``)."""
        return getattr(self, "_timeout", _DEFAULT_TIMEOUT)

    def set_timeout(self, timeout):
        """Set the default timeout of ``get`` and ``wait``."""
        self._timeout = _check_timeout("set_timeout", timeout)

    def _not_implemented(self):
        raise RuntimeError("Not implemented.")

    def set(self, key, value):
        """Store ``value`` (str or bytes) under ``key``, replacing what was there."""
        self._not_implemented()

    def get(self, key):
        """The bytes stored under ``key``, waiting up to ``timeout`` for it to be set."""
        self._not_implemented()

    def add(self, key, value):
        """Add the integer ``value`` to the counter ``key`` (0 if absent); returns the new count."""
        self._not_implemented()

    def compare_set(self, key, expected_value, desired_value):
        """Set ``key`` to ``desired_value`` if it holds ``expected_value`` (or is absent and
        ``expected_value`` is empty); returns the value ``key`` holds afterwards."""
        self._not_implemented()

    def check(self, keys):
        """Whether every key of ``keys`` is set (never waits)."""
        self._not_implemented()

    def wait(self, keys, timeout=None):
        """Wait until every key of ``keys`` is set; ``DistStoreError`` after ``timeout``."""
        self._not_implemented()

    def delete_key(self, key):
        """Delete ``key``; whether it existed."""
        self._not_implemented()

    def num_keys(self):
        """The number of keys stored."""
        self._not_implemented()

    def list_keys(self):
        """Every key stored."""
        self._not_implemented()

    def append(self, key, value):
        """Append ``value`` to the bytes under ``key`` (set it if absent)."""
        self.set(key, self.get(key) + _as_bytes("append", value) if self.check([key]) else value)

    def multi_get(self, keys):
        """``get`` of each key, in order."""
        return [self.get(key) for key in _check_keys("multi_get", keys)]

    def multi_set(self, keys, values):
        """``set`` of each key to its value."""
        for key, value in zip(_check_keys("multi_set", keys), values):
            self.set(key, value)

    def has_extended_api(self):
        """Whether ``append``, ``multi_get`` and ``multi_set`` are available (they are)."""
        return True


class HashStore(Store):
    """A thread-safe store in this process's memory (PyTorch's ``HashStore``): for tests, and for
    threads of one process."""

    def __init__(self):
        super().__init__()
        self._data = {}
        self._changed = threading.Condition()

    def set(self, key, value):
        key, value = _check_key("set", key), _as_bytes("set", value)
        with self._changed:
            self._data[key] = value
            self._changed.notify_all()

    def _wait_for(self, keys, timeout):
        deadline = time.monotonic() + timeout.total_seconds()
        with self._changed:
            while not all(key in self._data for key in keys):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise DistStoreError("Wait timeout")
                self._changed.wait(left)

    def get(self, key):
        key = _check_key("get", key)
        self._wait_for([key], self.timeout)
        with self._changed:
            return self._data[key]

    def add(self, key, value):
        key = _check_key("add", key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"add(): incompatible function arguments: value must be an int, got {type(value).__name__}")
        with self._changed:
            current = self._data.get(key, b"0")
            try:
                count = int(current.decode()) + value
            except ValueError:
                raise ValueError(f"add(): the value under key {key!r} is not an integer: {current!r}") from None
            self._data[key] = str(count).encode()
            self._changed.notify_all()
            return count

    def compare_set(self, key, expected_value, desired_value):
        key = _check_key("compare_set", key)
        expected, desired = _as_bytes("compare_set", expected_value), _as_bytes("compare_set", desired_value)
        with self._changed:
            if key not in self._data:
                if expected:
                    return expected  # absent and something else expected: nothing set (c10d's rule)
                self._data[key] = desired
            elif self._data[key] == expected:
                self._data[key] = desired
            self._changed.notify_all()
            return self._data[key]

    def check(self, keys):
        keys = _check_keys("check", keys)
        with self._changed:
            return all(key in self._data for key in keys)

    def wait(self, keys, timeout=None):
        keys = _check_keys("wait", keys)
        self._wait_for(keys, self.timeout if timeout is None else _check_timeout("wait", timeout))

    def delete_key(self, key):
        key = _check_key("delete_key", key)
        with self._changed:
            return self._data.pop(key, None) is not None

    def num_keys(self):
        with self._changed:
            return len(self._data)

    def list_keys(self):
        with self._changed:
            return list(self._data)

    def clone(self):
        """The same store (a HashStore is shared by reference, as PyTorch's clone of it is)."""
        return self


class PrefixStore(Store):
    """``store`` with every key put under ``prefix + "/"``: separate namespaces in one store."""

    def __init__(self, prefix, store):
        if not isinstance(prefix, (str, bytes)) or not isinstance(store, Store):
            raise TypeError(
                "__init__(): incompatible constructor arguments: PrefixStore(prefix: str, store: Store), got "
                f"({type(prefix).__name__}, {type(store).__name__})"
            )
        self._prefix = prefix.decode() if isinstance(prefix, bytes) else prefix
        self._store = store

    @property
    def underlying_store(self):
        """The store the prefixed keys live in."""
        return self._store

    @property
    def timeout(self):
        return self._store.timeout

    def set_timeout(self, timeout):
        self._store.set_timeout(timeout)

    def _key(self, method, key):
        return f"{self._prefix}/{_check_key(method, key)}"

    def set(self, key, value):
        self._store.set(self._key("set", key), value)

    def get(self, key):
        return self._store.get(self._key("get", key))

    def add(self, key, value):
        return self._store.add(self._key("add", key), value)

    def compare_set(self, key, expected_value, desired_value):
        return self._store.compare_set(self._key("compare_set", key), expected_value, desired_value)

    def check(self, keys):
        return self._store.check([self._key("check", key) for key in _check_keys("check", keys)])

    def wait(self, keys, timeout=None):
        keys = [self._key("wait", key) for key in _check_keys("wait", keys)]
        if timeout is None:
            self._store.wait(keys)
        else:
            self._store.wait(keys, timeout)

    def delete_key(self, key):
        return self._store.delete_key(self._key("delete_key", key))

    def num_keys(self):
        """The underlying store's number of keys (all prefixes), as PyTorch counts."""
        return self._store.num_keys()

    def list_keys(self):
        start = f"{self._prefix}/"
        return [key[len(start):] for key in self._store.list_keys() if key.startswith(start)]

    def append(self, key, value):
        self._store.append(self._key("append", key), value)

    def has_extended_api(self):
        return self._store.has_extended_api()

    def clone(self):
        """A PrefixStore with the same prefix over a clone of the underlying store."""
        return PrefixStore(self._prefix, self._store.clone())
