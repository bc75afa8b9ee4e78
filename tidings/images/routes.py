"""The image endpoints of Klaviyo's API (5 operations), and the public address of each image.

GET /images/{account id}/{image id}.{ext} serves the file to whoever loads the email: no key,
as an image in an email must load anywhere; the ids are unguessable ULIDs.
"""

from __future__ import annotations

from fastapi import APIRouter, Body, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, Response

from tidings.http import ApiContext, api, runtime_of
from tidings.images import repository, service, storage
from tidings.images.render import image_resource
from tidings.images.schemas import ImageCreateQuery, ImageUpdateQuery
from tidings.images.tables import Image
from tidings.jsonapi.documents import JSONAPIResponse, collection, single
from tidings.jsonapi.errors import InvalidInput, NotFound
from tidings.jsonapi.filters import compile_filter
from tidings.jsonapi.pagination import paginate

router = APIRouter(prefix="/api", tags=["Images"])
public_router = APIRouter(tags=["Images"])

IMPORT_POINTER = "/data/attributes/import_from_url"
UPLOAD_PATHS = ("/api/images", "/api/image-upload")


def _one(ctx: ApiContext, image: Image, status: int = 200) -> JSONAPIResponse:
    data = image_resource(ctx.urls, ctx.runtime.settings, image, ctx.params.fields.get("image"))
    self_url = ctx.urls.current() if status == 200 else data["links"]["self"]
    return JSONAPIResponse(single(data, self_url), status_code=status)


@router.get("/images", operation_id="get_images")
def get_images(ctx: ApiContext = api("get_images")) -> JSONAPIResponse:
    stmt = repository.images_query(ctx.account_id)
    if ctx.params.filter is not None:
        stmt = stmt.where(compile_filter(ctx.params.filter, repository.FILTERS))
    page = paginate(
        ctx.session,
        stmt,
        operation="get_images",
        sort_column=repository.SORTS.get(ctx.params.sort_field or "id", Image.id),
        id_column=Image.id,
        descending=ctx.params.descending,
        size=ctx.params.page_size,
        cursor=ctx.params.cursor,
        sort=ctx.params.sort,
        filter_text=ctx.params.filter_text,
    )
    settings = ctx.runtime.settings
    data = [image_resource(ctx.urls, settings, i, ctx.params.fields.get("image")) for i in page.rows]
    return JSONAPIResponse(collection(data, ctx.urls, page.next_cursor, page.prev_cursor))


@router.post("/images", operation_id="upload_image_from_url", status_code=201)
def upload_image_from_url(
    document: ImageCreateQuery = Body(...), ctx: ApiContext = api("upload_image_from_url")
) -> JSONAPIResponse:
    attributes = document.data.attributes
    source = attributes.import_from_url.strip()
    if source.lower().startswith("data:"):
        data, default_name = service.decode_data_uri(source, IMPORT_POINTER), "image"
    else:
        allow_private = ctx.runtime.settings.allow_private_urls
        data = service.fetch(source, IMPORT_POINTER, allow_private=allow_private)
        default_name = service.name_from_url(source)
    image = service.create_image(
        ctx.session,
        ctx.runtime.settings,
        ctx.account_id,
        data,
        name=attributes.name,
        default_name=default_name,
        hidden=bool(attributes.hidden),
        pointer=IMPORT_POINTER,
    )
    return _one(ctx, image, 201)


@router.post("/image-upload", operation_id="upload_image_from_file", status_code=201)
def upload_image_from_file(
    file: UploadFile = File(...),
    name: str | None = Form(None, max_length=255),
    hidden: bool = Form(False),
    ctx: ApiContext = api("upload_image_from_file"),
) -> JSONAPIResponse:
    if name is not None and "\x00" in name:  # a form is not scanned for NULs as JSON is
        raise InvalidInput("The name may not contain a NUL character.", parameter="name")
    data = file.file.read(service.MAX_BYTES + 1)
    image = service.create_image(
        ctx.session,
        ctx.runtime.settings,
        ctx.account_id,
        data,
        name=name,
        default_name=(file.filename or "image").replace("\x00", ""),
        hidden=hidden,
        parameter="file",
    )
    return _one(ctx, image, 201)


@router.get("/images/{id}", operation_id="get_image")
def get_image(id: str, ctx: ApiContext = api("get_image")) -> JSONAPIResponse:
    return _one(ctx, service.get_image(ctx.session, ctx.account_id, id))


@router.patch("/images/{id}", operation_id="update_image")
def update_image(
    id: str, document: ImageUpdateQuery = Body(...), ctx: ApiContext = api("update_image")
) -> JSONAPIResponse:
    attributes = document.data.attributes
    image = service.update_image(
        ctx.session, ctx.account_id, id, document.data.id, attributes.name, attributes.hidden
    )
    return _one(ctx, image)


@public_router.api_route("/images/{account_id}/{filename}", methods=["GET", "HEAD"], include_in_schema=False)
def serve_image(account_id: str, filename: str, request: Request) -> Response:
    image_id, dot, ext = filename.partition(".")
    formats = {v: k for k, v in storage.EXTENSIONS.items()}
    if not dot or ext not in formats:
        raise NotFound("No such image.")
    try:
        path = storage.path_for(runtime_of(request).settings.image_dir, account_id, image_id, formats[ext])
    except ValueError as error:
        raise NotFound("No such image.") from error
    if not path.is_file():
        raise NotFound("No such image.")
    # An image never changes under its id: caches may keep it for a year.
    headers = {"Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"}
    return FileResponse(path, media_type=storage.MEDIA_TYPES[formats[ext]], headers=headers)
