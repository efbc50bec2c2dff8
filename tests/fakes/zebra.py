"""A fake Zebra printer on 127.0.0.1: raw ZPL on a TCP port, `~HS`/`~HQES`/`~HI` answers, real failure modes.

    with FakeZebra() as printer:
        send(("127.0.0.1", printer.port), zpl)
        printer.wait_for_labels(1)
        printer.set_mode(Mode.PAPER_OUT)

Formats (`^XA...^XZ`) are split out of the byte stream per connection. A ready printer prints them; a
printer with paper out, head open, ribbon out or paused keeps them in its buffer (they print when it is
ready again), as a real one does. Control commands (`~`) act at once, even in the middle of a format.
Answers are framed with STX/ETX like the real printer's. Only ever binds 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum

STX, ETX, CRLF = b"\x02", b"\x03", b"\r\n"
HOST = "127.0.0.1"


class Mode(StrEnum):
    """How the fake behaves right now."""

    READY = "ready"
    PAPER_OUT = "paper_out"
    HEAD_OPEN = "head_open"
    RIBBON_OUT = "ribbon_out"
    PAUSED = "paused"
    SILENT = "silent"  # accepts connections and data, never answers
    REFUSE = "refuse"  # listening socket closed: connections are refused
    CLOSE_MID_JOB = "close_mid_job"  # drops a connection after `close_after_bytes` bytes
    SLOW = "slow"  # reads and answers slowly (`slow_delay` seconds per read and before each answer)


_HOLDING_MODES = {Mode.PAPER_OUT, Mode.HEAD_OPEN, Mode.RIBBON_OUT, Mode.PAUSED, Mode.SILENT}
_ERROR_BITS = {Mode.PAPER_OUT: 0x1, Mode.RIBBON_OUT: 0x2, Mode.HEAD_OPEN: 0x4, Mode.PAUSED: 0x10000}


@dataclass
class Connection:
    """What one client connection sent."""

    peer: tuple[str, int]
    labels: list[bytes] = field(default_factory=list)
    queries: list[bytes] = field(default_factory=list)
    bytes_received: int = 0
    dropped: bool = False
    raw: bytearray = field(default_factory=bytearray)  # every byte read, in order (for byte-exact checks)


class FakeZebra:
    """A threaded TCP peer behaving like a networked Zebra on port 9100 (here: a free port)."""

    def __init__(
        self,
        *,
        port: int = 0,
        label_length_dots: int = 1218,
        close_after_bytes: int = 64,
        slow_delay: float = 0.2,
        hides_host_status_on_error: bool = False,
        model: str = "ZD621-203dpi",
        firmware: str = "V93.21.26Z",
    ) -> None:
        self.requested_port = port
        self.port = 0
        self.label_length_dots = label_length_dots
        self.close_after_bytes = close_after_bytes
        self.slow_delay = slow_delay
        # Newer firmware does not answer ~HS at all while media out, ribbon out or head open.
        self.hides_host_status_on_error = hides_host_status_on_error
        self.model, self.firmware = model, firmware
        self.mode = Mode.READY
        self.connections: list[Connection] = []
        self.printed: list[bytes] = []
        self.held: list[bytes] = []
        self._lock = threading.Condition()
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._client_sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    # -- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> FakeZebra:
        self._listen(self.requested_port)
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._close_listener()
        with self._lock:
            clients = list(self._client_sockets)
        for sock in clients:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> FakeZebra:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def address(self) -> tuple[str, int]:
        return HOST, self.port

    # -- control -----------------------------------------------------------------------------------------

    def set_mode(self, mode: Mode) -> None:
        """Switch behaviour; back to a printing mode, held formats print."""
        with self._lock:
            previous, self.mode = self.mode, mode
            if mode not in _HOLDING_MODES and mode is not Mode.REFUSE:
                self.printed.extend(self.held)
                self.held.clear()
            self._lock.notify_all()
        if mode is Mode.REFUSE:
            self._close_listener()
        elif previous is Mode.REFUSE:
            self._listen(self.port)

    def wait_for_labels(self, count: int, timeout: float = 5.0) -> list[bytes]:
        """Block until `count` formats were received (printed or held); return them all."""
        with self._lock:
            self._lock.wait_for(lambda: len(self.received) >= count, timeout=timeout)
            return list(self.received)

    @property
    def received(self) -> list[bytes]:
        return [label for conn in self.connections for label in conn.labels]

    # -- sockets -----------------------------------------------------------------------------------------

    def _listen(self, port: int) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, port))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self._listener = listener
        thread = threading.Thread(
            target=self._accept, args=(listener,), name="fake-zebra-accept", daemon=True
        )
        self._accept_thread = thread
        self._threads.append(thread)
        thread.start()

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()

    def _accept(self, listener: socket.socket) -> None:
        while not self._stopping.is_set():
            try:
                sock, peer = listener.accept()
            except OSError:
                return
            conn = Connection(peer=peer)
            with self._lock:
                self.connections.append(conn)
                self._client_sockets.add(sock)
            thread = threading.Thread(
                target=self._serve, args=(sock, conn), name="fake-zebra-conn", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket, conn: Connection) -> None:
        session = _Session(self, sock, conn)
        try:
            session.run()
        except OSError:
            pass
        finally:
            with self._lock:
                self._client_sockets.discard(sock)
                self._lock.notify_all()
            sock.close()

    # -- answers -----------------------------------------------------------------------------------------

    def host_status(self) -> bytes:
        """The three ~HS strings for the current mode."""
        with self._lock:
            mode, held = self.mode, len(self.held)
        paper_out = int(mode is Mode.PAPER_OUT)
        paused = int(mode is Mode.PAUSED)
        head_up = int(mode is Mode.HEAD_OPEN)
        ribbon_out = int(mode is Mode.RIBBON_OUT)
        one = f"030,{paper_out},{paused},{self.label_length_dots:04d},{held:03d},0,0,0,000,0,0,0"
        two = f"001,0,{head_up},{ribbon_out},1,2,6,0,{held:08d},1,000"
        three = "1234,0"
        return b"".join(STX + s.encode() + ETX + CRLF for s in (one, two, three))

    def extended_status(self) -> bytes:
        """The ~HQES answer for the current mode."""
        with self._lock:
            bits = _ERROR_BITS.get(self.mode, 0)
        lines = [
            "",
            "",
            "  PRINTER STATUS                            ",
            f"   ERRORS:         {int(bits != 0)} 00000000 {bits:08X}      ",
            "   WARNINGS:       0 00000000 00000000      ",
        ]
        return STX + "\r\n".join(lines).encode() + b"\r\n" + ETX

    def host_identification(self) -> bytes:
        return STX + f"{self.model},{self.firmware},8,8176KB".encode() + ETX + CRLF

    def _store(self, conn: Connection, label: bytes) -> None:
        with self._lock:
            conn.labels.append(label)
            if self.mode in _HOLDING_MODES:
                self.held.append(label)
            else:
                self.printed.append(label)
            self._lock.notify_all()

    def _cancel_all(self) -> None:
        with self._lock:
            self.held.clear()


class _Session:
    """Reads one connection and splits its stream into formats and control commands."""

    def __init__(self, printer: FakeZebra, sock: socket.socket, conn: Connection) -> None:
        self.printer, self.sock, self.conn = printer, sock, conn
        self.buffer = b""
        self.format: bytes | None = None

    def run(self) -> None:
        printer = self.printer
        while True:
            slow = printer.mode is Mode.SLOW
            chunk = self.sock.recv(16 if slow else 65536)
            if not chunk:
                return
            if slow:
                time.sleep(printer.slow_delay)
            if printer.mode is Mode.CLOSE_MID_JOB:
                room = printer.close_after_bytes - self.conn.bytes_received
                if len(chunk) >= room:
                    self.conn.bytes_received += max(room, 0)
                    self._consume(chunk[: max(room, 0)])
                    self._drop()
                    return
            self.conn.bytes_received += len(chunk)
            self._consume(chunk)

    def _drop(self) -> None:
        self.conn.dropped = True
        # Linger 0: the client sees a reset, as when a printer reboots or its buffer overflows.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")

    def _consume(self, data: bytes) -> None:
        self.conn.raw += data
        self.buffer += data
        while self.buffer:
            tilde = self.buffer.find(b"~")
            if self.format is None:
                start = self.buffer.find(b"^XA")
                if tilde != -1 and (start == -1 or tilde < start):
                    if not self._control(tilde):
                        return
                    continue
                if start == -1:
                    # Keep a possible "^X" split across reads; drop bytes outside formats.
                    self.buffer = self.buffer[-2:] if self.buffer.endswith((b"^", b"^X")) else b""
                    return
                self.format = b""
                self.buffer = self.buffer[start:]
                continue
            end = self.buffer.find(b"^XZ")
            if tilde != -1 and (end == -1 or tilde < end):
                self.format += self.buffer[:tilde]
                self.buffer = self.buffer[tilde:]
                if not self._control(0):
                    return
                continue
            if end == -1:
                keep = 2 if self.buffer.endswith((b"^", b"^X")) else 0
                self.format += self.buffer[: len(self.buffer) - keep]
                self.buffer = self.buffer[len(self.buffer) - keep :]
                return
            label = self.format + self.buffer[: end + 3]
            self.format = None
            self.buffer = self.buffer[end + 3 :]
            self.printer._store(self.conn, label)

    def _control(self, at: int) -> bool:
        """Handle the control command at `at`; False when more bytes are needed to know which it is."""
        rest = self.buffer[at:]
        for command, length in ((b"~HQES", 5), (b"~HS", 3), (b"~HI", 3), (b"~JA", 3)):
            if rest.startswith(command):
                self.buffer = self.buffer[:at] + rest[length:]
                self._answer(command)
                return True
        if len(rest) < 5 and (b"~HQES".startswith(rest) or len(rest) < 3):
            return False
        if rest.startswith(b"~HQ"):
            self.buffer = self.buffer[:at] + rest[5:]
        else:
            self.buffer = self.buffer[:at] + rest[3:]
        return True

    def _answer(self, command: bytes) -> None:
        printer = self.printer
        self.conn.queries.append(command)
        if command == b"~JA":
            printer._cancel_all()
            return
        mode = printer.mode
        if mode is Mode.SILENT:
            return
        if mode is Mode.SLOW:
            time.sleep(printer.slow_delay)
        if command == b"~HS":
            hidden = mode in (Mode.PAPER_OUT, Mode.RIBBON_OUT, Mode.HEAD_OPEN)
            if hidden and printer.hides_host_status_on_error:
                return
            self.sock.sendall(printer.host_status())
        elif command == b"~HQES":
            self.sock.sendall(printer.extended_status())
        elif command == b"~HI":
            self.sock.sendall(printer.host_identification())


def send(address: tuple[str, int], data: bytes, *, timeout: float = 5.0) -> None:
    """Send raw bytes to a printer and close the connection."""
    with socket.create_connection(address, timeout=timeout) as sock:
        sock.sendall(data)


def query(address: tuple[str, int], command: bytes, *, timeout: float = 5.0) -> bytes:
    """Send a status command and read the framed answer (three strings for ~HS, one block otherwise)."""
    expected_etx = 3 if command == b"~HS" else 1
    with socket.create_connection(address, timeout=timeout) as sock:
        sock.sendall(command)
        answer = b""
        while answer.count(ETX) < expected_etx:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
        return answer
