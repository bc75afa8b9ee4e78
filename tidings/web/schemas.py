"""Request bodies of the web app's own endpoints (JSON:API documents, as the rest of /api)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class _Strict(BaseModel):
    model_config = {"extra": "forbid"}


class SignInAttributes(_Strict):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class SignInData(_Strict):
    type: Literal["session"]
    attributes: SignInAttributes


class SignIn(_Strict):
    data: SignInData


class AccountRef(_Strict):
    type: Literal["account"]
    id: str = Field(max_length=64)


class SwitchAccount(_Strict):
    data: AccountRef


class InvitationAttributes(_Strict):
    email: str = Field(max_length=320)
    role: str = Field(max_length=64)


class InvitationData(_Strict):
    type: Literal["invitation"]
    attributes: InvitationAttributes


class CreateInvitation(_Strict):
    data: InvitationData


class AcceptAttributes(_Strict):
    token: str = Field(max_length=200)
    password: str = Field(max_length=1024)
    name: str = Field("", max_length=255)


class AcceptData(_Strict):
    type: Literal["invitation-acceptance"]
    attributes: AcceptAttributes


class AcceptInvitation(_Strict):
    data: AcceptData


class RoleAttributes(_Strict):
    role: str = Field(max_length=64)


class UserPatchData(_Strict):
    type: Literal["user"]
    id: str = Field(max_length=64)
    attributes: RoleAttributes


class PatchUser(_Strict):
    data: UserPatchData
