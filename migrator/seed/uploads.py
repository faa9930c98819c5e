"""Files (§3.7, §4.4): attachments of a chat's first question, uploads on their own, fresh
uploads still carrying their TTL, and the §8 orphan files.

§ numbers refer to docs/librechat.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from migrator.model import FILE_DEFAULTS, materialize
from migrator.seed.context import Ctx, UserRef
from migrator.seed.ids import BASE, FAR
from migrator.seed.text import title


class Uploads:
    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx

    def file(self, owner: Any, at: datetime, *, image: bool) -> dict[str, Any]:
        ctx, rng = self.ctx, self.ctx.rng
        file_id = ctx.ids.uuid()
        doc: dict[str, Any] = {"_id": ctx.ids.oid(at), "user": owner, "file_id": file_id}
        if image:
            ext = rng.choice(["png", "png", "webp", "jpeg"])
            stem = rng.choice(["image", "screenshot", "photo", "diagram"])
            name = f"{stem}-{rng.randint(1, 999)}.{ext}"
            doc.update(bytes=rng.randint(20_000, 3_000_000), filename=name)
            doc["filepath"] = f"/images/{owner}/{file_id}__{name}"
            doc.update(materialize(FILE_DEFAULTS, at), type=f"image/{ext}")
            doc.update(width=rng.choice([512, 1024, 1920]), height=rng.choice([512, 768, 1080]))
        else:
            ext, mime = rng.choice([
                ("pdf", "application/pdf"), ("txt", "text/plain"),
                ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            ])  # fmt: skip
            name = f"{title(rng).replace(' ', '_').lower()}.{ext}"
            doc.update(bytes=rng.randint(2_000, 8_000_000), filename=name)
            doc["filepath"] = f"/uploads/{owner}/{file_id}__{name}"
            doc.update(materialize(FILE_DEFAULTS, at), type=mime)
            if ctx.chance(0.5):  # RAG configured: vectorized for file_search
                doc["embedded"] = True
        doc["context"] = "message_attachment"
        doc.update(createdAt=at, updatedAt=at, __v=0)
        return doc

    def attach(
        self, user: UserRef, conversation_id: str, message: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Files uploaded with the first question; usage = how many messages used them."""
        ctx = self.ctx
        docs, refs = [], []
        for _ in range(ctx.rng.choice([1, 1, 2])):
            doc = self.file(user.id, message["createdAt"], image=ctx.chance(0.7))
            doc["conversationId"] = conversation_id
            doc["usage"] = ctx.rng.randint(1, 5)
            if doc["usage"] > 1:  # used again by later messages: updatedAt moved on
                doc["updatedAt"] = ctx.ids.after(doc["createdAt"], 60, 30 * 86_400)
                ref = {"user": user.hex, "file_id": doc["file_id"]}
                ctx.hazards.add("files_updated_later", 1, ref)
            docs.append(doc)
            ref = {k: doc[k] for k in ("file_id", "filepath", "type") if k in doc}
            ref.update({k: doc[k] for k in ("height", "width") if k in doc})
            refs.append(ref)
        message["files"] = refs
        return docs

    def upload(self, user: UserRef) -> None:
        """A file uploaded on its own (agent/assistant use); half used again later."""
        ctx = self.ctx
        at = ctx.ids.between(user.created, BASE)
        doc = self.file(user.id, at, image=ctx.chance(0.6))
        if ctx.chance(0.5):
            doc["usage"] = ctx.rng.randint(1, 5)  # §7: usage 0-5
            doc["updatedAt"] = ctx.ids.between(at, BASE + timedelta(days=2))
            ctx.hazards.add("files_updated_later", 1, {"user": user.hex, "file_id": doc["file_id"]})
        ctx.out.add("files", doc)

    def loose_files(self, user: UserRef) -> None:
        """Fresh uploads (TTL, temp id) and the §8 orphan files."""
        ctx = self.ctx
        if ctx.chance(0.04):  # uploaded, never sent: temp_file_id + expiresAt still set
            at = ctx.ids.between(user.created, BASE)
            doc = self.file(user.id, at, image=True)
            doc["temp_file_id"] = ctx.ids.uuid()
            doc["expiresAt"] = ctx.ids.between(FAR, FAR + timedelta(days=1))
            ctx.out.add("files", doc)
        if ctx.carries("orphan_files_conversation", user):
            doc = self.file(user.id, ctx.ids.between(user.created, BASE), image=True)
            doc.update(conversationId=ctx.ids.uuid(), usage=1)
            ctx.out.add("files", doc)
            ref = {"user": user.hex, "file_id": doc["file_id"]}
            ctx.hazards.add("orphan_files_conversation", 1, ref)
        if ctx.carries("orphan_files_user", user):
            at = ctx.ids.between(user.created, BASE)
            doc = self.file(ctx.ids.oid(at), at, image=False)  # owner deleted since
            ctx.out.add("files", doc)
            ref = {"user": str(doc["user"]), "file_id": doc["file_id"]}
            ctx.hazards.add("orphan_files_user", 1, ref)
