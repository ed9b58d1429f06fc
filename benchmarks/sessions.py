"""A visitor without a browser: one Streamlit session over the websocket protocol, as the browser
speaks it, that runs a page and uploads files to its file uploader (HTTP PUT to
/_stcore/upload_file, then a rerun whose widget state names the files). Used by the upload
measurement of benchmarks/load.py and by tests/test_uploads.py. Plain Python."""
from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field

UPLOADER_KEY = "upload"  # the sidebar's checkpoint uploader (ui/widgets.py)


@dataclass
class Run:
    """What one script run sent: the session, the uploader's widget id, errors shown, seconds."""
    session_id: str = ""
    uploader: str = ""
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


class Session:
    """`async with Session(url) as s`: a connected session; `await s.run()` runs the page."""

    def __init__(self, url: str, page: str = "", timeout_s: float = 120):
        self.url, self.page, self.timeout_s, self.session_id, self.uploader = url, page, timeout_s, "", ""

    async def __aenter__(self) -> "Session":
        import websockets  # a dependency of streamlit
        self.ws = await websockets.connect(self.url.replace("http", "ws", 1) + "/_stcore/stream",
                                           subprotocols=["streamlit"], max_size=None,
                                           ping_interval=None)  # as a browser: no client pings to time out
        return self

    async def __aexit__(self, *exc) -> None:
        await self.ws.close()

    async def run(self, widget_states=()) -> Run:
        """Rerun the page with these WidgetState protos; returns once the script has finished."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
        back = BackMsg()
        back.rerun_script.page_name = self.page
        back.rerun_script.widget_states.widgets.extend(widget_states)
        run, start = Run(), time.perf_counter()
        async with asyncio.timeout(self.timeout_s):
            await self.ws.send(back.SerializeToString())
            while True:
                msg = ForwardMsg()
                msg.ParseFromString(await self.ws.recv())
                kind = msg.WhichOneof("type")
                if kind == "new_session":
                    self.session_id = msg.new_session.initialize.session_id
                elif kind == "script_finished":
                    run.seconds, run.session_id, run.uploader = time.perf_counter() - start, self.session_id, self.uploader
                    return run
                elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                    self._saw(msg.delta.new_element, run)

    def _saw(self, element, run: Run) -> None:
        kind = element.WhichOneof("type")
        if kind == "file_uploader" and element.file_uploader.id.endswith(f"-{UPLOADER_KEY}"):
            self.uploader = element.file_uploader.id
        elif kind == "exception" or (kind == "alert" and element.alert.format == element.alert.ERROR):
            run.errors.append(element.alert.body if kind == "alert" else element.exception.message)

    async def upload(self, files: dict[str, bytes]) -> Run:
        """Put `files` ({name: bytes}) into the page's checkpoint uploader and rerun the page.
        An HTTP error (413: above server.maxUploadSize) comes back as the run's one error."""
        stored, refused = await self.put(files)
        if refused:
            return Run(self.session_id, self.uploader, [f"refused by the server: {refused[0]}"])
        return await self.run_with(stored)

    async def put(self, files: dict[str, bytes], parallel: int = 1) -> tuple[list, list[str]]:
        """PUT each file to the upload endpoint, `parallel` requests at a time, as a browser does
        before it reruns the page; ([(name, size, file_id) of each file the server kept], [why
        each other file was refused, e.g. 'HTTP 413 for a.zip'])."""
        if not self.uploader:
            await self.run()
        gate = asyncio.Semaphore(parallel)

        async def one(name: str, data: bytes):
            file_id = uuid.uuid4().hex
            async with gate:
                try:
                    await asyncio.to_thread(put_file, f"{self.url}/_stcore/upload_file/{self.session_id}/{file_id}",
                                            name, data)
                except urllib.error.HTTPError as e:
                    return f"HTTP {e.code} for {name}: {e.read()[:200].decode(errors='replace')}"
                except (urllib.error.URLError, ConnectionError) as e:  # a server may reset an oversized request
                    return f"{e} for {name}"
            return name, len(data), file_id

        outcomes = await asyncio.gather(*(one(name, data) for name, data in files.items()))
        return [o for o in outcomes if isinstance(o, tuple)], [o for o in outcomes if isinstance(o, str)]

    async def run_with(self, stored: list) -> Run:
        """Rerun the page with the uploader holding `stored` (put's first list)."""
        from streamlit.proto.Common_pb2 import FileUploaderState
        from streamlit.proto.WidgetStates_pb2 import WidgetState
        state = FileUploaderState()
        for name, size, file_id in stored:
            info = state.uploaded_file_info.add(name=name, size=size, file_id=file_id)
            path = f"/_stcore/upload_file/{self.session_id}/{file_id}"
            info.file_urls.file_id, info.file_urls.upload_url, info.file_urls.delete_url = file_id, path, path
        return await self.run([WidgetState(id=self.uploader, file_uploader_state_value=state)])


def put_file(url: str, name: str, data: bytes) -> None:
    """The browser's upload request: a multipart form holding one file (the server must run with
    server.enableXsrfProtection false: this client holds no XSRF cookie)."""
    boundary = uuid.uuid4().hex
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(url, data=body, method="PUT",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
