"""Klaviyo's template language: Django's own template engine, used standalone.

No Django project and no settings file: the few settings the engine reads (time zone, i18n)
are configured here once, in code. Templates autoescape HTML, missing variables render as
nothing, and Klaviyo's tags and filters (tidings/templates/library.py) are built in. The
sandbox (tidings/templates/sandbox.py) removes what user input must not reach.

    compiled = compile_template(source)            # TemplateSyntaxError -> TemplateError
    html = compiled.render({"first_name": "Ada"})  # within a budget (limits.py): time, size, work
"""

from __future__ import annotations

import threading
import zoneinfo
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from tidings.templates import limits as budgets
from tidings.templates import sandbox
from tidings.templates.bounded import guard_filters
from tidings.templates.errors import MessageSkipped, RenderError, TemplateError, TemplateTooLarge
from tidings.templates.library import register as klaviyo
from tidings.templates.limits import DEFAULT_LIMITS, RenderLimits

_setup_lock = threading.Lock()


def configure_django() -> None:
    """Django's settings for the template engine alone, set once and only if nobody else did
    (the recipient pages' engine, tidings/delivery/page_render.py, calls it too)."""
    from django.conf import settings

    with _setup_lock:
        if not settings.configured:
            settings.configure(
                USE_I18N=False,
                USE_TZ=True,
                TIME_ZONE="UTC",
                DEBUG=False,
                DEFAULT_CHARSET="utf-8",
            )


@lru_cache(maxsize=2)
def _engine(debug: bool) -> Any:
    configure_django()
    from django.template import Engine

    engine = Engine(
        debug=debug,  # debug compiles report the line of a syntax error
        loaders=[],  # nothing is ever read from disk
        string_if_invalid="",
        autoescape=True,
        libraries={},
        builtins=[],
    )
    # Replace (not extend) Django's default built-ins with the sandboxed set.
    engine.template_builtins = [sandbox.builtins_library(), guard_filters(klaviyo)]
    engine.template_libraries = {}
    return engine


@dataclass
class CompiledTemplate:
    """A parsed template, reusable across renders and threads (Django's nodes are stateless)."""

    source: str
    template: Any  # django.template.base.Template

    @property
    def universal_ids(self) -> set[str]:
        return sandbox.universal_ids(self.template.nodelist)

    def render(
        self,
        context: Mapping[str, Any],
        *,
        env: sandbox.RenderEnv | None = None,
        limits: RenderLimits = DEFAULT_LIMITS,
        autoescape: bool = True,
    ) -> str:
        """Render within `limits`, or within the budget already running (see `shared_budget`)."""
        from django.template import Context

        env = env or sandbox.RenderEnv()
        env_token = sandbox.set_env(env)
        budget_token = budgets.start(limits) if budgets.current() is None else None
        try:
            data = sandbox.freeze(context)
            frames = Context(data, autoescape=autoescape)
            frames.push()  # a writable frame over the read-only data, for `{% ... as name %}` tags
            if env.timezone == "UTC":
                return str(self.template.render(frames))
            with _timezone(env.timezone):
                return str(self.template.render(frames))
        except MessageSkipped:
            raise
        except budgets.RenderLimitExceeded as error:
            raise RenderError(str(error), error.limit) from None
        except RecursionError:
            raise RenderError("The template or its data is nested too deeply.") from None
        except Exception as error:  # a filter or tag failed on this data
            raise RenderError(
                f"The template could not be rendered: {type(error).__name__}: {error}"
            ) from None
        finally:
            if budget_token is not None:
                budgets.stop(budget_token)
            sandbox.reset_env(env_token)


@contextmanager
def _timezone(name: str) -> Iterator[None]:
    if name == "UTC":
        yield
        return
    from django.utils import timezone

    try:
        zone = zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        yield
        return
    with timezone.override(zone):
        yield


def check_size(source: str, what: str = "template") -> None:
    if len(source.encode("utf-8", "surrogatepass")) > sandbox.MAX_SOURCE_BYTES:
        raise TemplateTooLarge(f"The {what} is larger than {sandbox.MAX_SOURCE_BYTES} bytes.")


def compile_template(source: str) -> CompiledTemplate:
    """Parse a template; a syntax error, unknown tag or unknown filter raises TemplateError."""
    from django.template import Template, TemplateSyntaxError

    check_size(source)
    engine = _engine(False)
    try:
        template = Template(source, engine=engine)
    except TemplateSyntaxError as error:
        raise _located(source, error) from None
    except RecursionError:
        raise TemplateError("The template is nested too deeply.") from None
    except Exception as error:  # a tag's parser failing in a way Django does not wrap
        raise TemplateError(f"The template could not be compiled: {error}") from None
    sandbox.guard(template.nodelist)
    return CompiledTemplate(source, template)


def _located(source: str, error: Exception) -> TemplateError:
    """Django's message with the line it refers to (found by compiling in debug mode)."""
    from django.template import Template, TemplateSyntaxError

    message = str(error)
    try:
        Template(source, engine=_engine(True))
    except TemplateSyntaxError as debug_error:
        info = getattr(debug_error, "template_debug", None) or {}
        return TemplateError(str(debug_error) or message, info.get("line"))
    except Exception:  # pragma: no cover - the debug compile fails the same way
        pass
    return TemplateError(message)


@lru_cache(maxsize=512)
def compile_cached(source: str) -> CompiledTemplate:
    """Compile once per distinct source (templates are immutable values once compiled)."""
    return compile_template(source)
