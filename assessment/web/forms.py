"""The app's forms. Assessment pages are built from the rubric by functions (dynamic composition)."""

from __future__ import annotations

import functools
import hmac

from flask import current_app
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    Form,
    FormField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.core import UnboundField
from wtforms.meta import DefaultMeta
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..accounts import ROLES, password_problem
from ..answers import BASES, DONT_KNOW, NAME_MAX, NOT_APPLICABLE, NOTE_MAX
from ..rubric import LEVELS, Question, Rubric
from ..workshops import RATIONALE_MAX
from .contentcache import cache

BASIS_LABELS = {"self_assessed": "Self-assessed", "evidenced": "Backed by evidence"}
ROLE_CHOICES = [SelectChoice(role, role.capitalize()) for role in ROLES]


def _new_password(form, field):
    typed = [form[name].data for name in ("name", "email", "workspace") if name in form]
    problem = password_problem(field.data or "", [*typed, *form.personal])
    if problem:
        raise ValidationError(problem)


def _stripped(value: str | None) -> str | None:
    # A space pasted or typed after an address is no part of it.
    return value.strip() if value else value


def _email(autocomplete: str, label: str = "Email address"):
    """An email field; ``autocomplete`` is "username" where it names an existing account (log-in),
    "email" where it gives a new one's address, "off" where it is someone else's. Autocomplete
    tokens are what WCAG 1.3.5 asks for."""
    return EmailField(label, render_kw={"autocomplete": autocomplete}, filters=[_stripped],
                      validators=[DataRequired(), Length(max=NAME_MAX),
                                  Regexp(r"^[^@\s]+@[^@\s]+$", message="Enter an email address.")])


def _new_password_fields(*checks):
    """The new password and its repetition; ``checks``: the password's validators beyond being given."""
    new = {"autocomplete": "new-password"}
    return (PasswordField("Password (at least 12 characters)", validators=[DataRequired(), *checks],
                          render_kw=new),
            PasswordField("Repeat the password", render_kw=new,
                          validators=[DataRequired(), EqualTo("password", message="The passwords differ.")]))


class SecretCodeField(StringField):
    """A code copied from elsewhere (the setup code, a workshop's join code): shown as it is typed,
    yet, like a password, never written back into a page (secret_field_names)."""


def secret_field_names() -> frozenset[str]:
    """The names, as posted, of every password and secret code of every form class defined so far
    (the app's, those built from a rubric among them): what a page never writes back
    (errors._unavailable_page). By type rather than by name, so that a new secret cannot be missed."""
    found, todo = set(), [Form]
    while todo:
        subclasses = todo.pop().__subclasses__()
        todo += subclasses
        for form_class in subclasses:
            found.update(_secret_fields(form_class))
    return frozenset(found)


def _secret_fields(form_class: type[Form], prefix: str = "") -> set[str]:
    """The form's passwords and secret codes, with those of its sub-forms (FormField) under their prefix."""
    names = set()
    for attribute in dir(form_class):
        unbound = getattr(form_class, attribute)
        if not isinstance(unbound, UnboundField):
            continue
        name = prefix + unbound.kwargs.get("name", attribute)
        if issubclass(unbound.field_class, FormField):
            sub_form = unbound.kwargs.get("form_class") or unbound.args[0]
            names |= _secret_fields(sub_form, f"{name}{unbound.kwargs.get('separator', '-')}")
        elif issubclass(unbound.field_class, (PasswordField, SecretCodeField)):
            names.add(name)
    return names


class AccountForm(FlaskForm):
    personal = ()  # what the view knows of the account beyond these fields (password_problem)
    name = StringField("Your name", validators=[DataRequired(), Length(max=NAME_MAX)],
                       render_kw={"autocomplete": "name"})
    email = _email("email")
    password, confirm = _new_password_fields(_new_password)


class SetupForm(AccountForm):
    expected_code = None  # the instance's setup code (the view sets it)
    code = SecretCodeField("Setup code", validators=[DataRequired()], filters=[_stripped],
                       description="Printed by sovready serve when it started, and kept in the file setup_code "
                                   "of its instance folder until the first account exists.",
                       render_kw={"autocomplete": "off", "spellcheck": "false"})
    workspace = StringField("Organization or workspace name", validators=[DataRequired(), Length(max=NAME_MAX)],
                            render_kw={"autocomplete": "organization"})

    def validate_code(self, field):
        if not hmac.compare_digest(field.data.encode(), (self.expected_code or "").encode()):
            raise ValidationError("This is not the setup code. Copy it from what sovready serve printed when it "
                                  "started, or from the file setup_code in the instance folder.")


class LoginForm(FlaskForm):
    email = _email("username")
    password = PasswordField("Password", validators=[DataRequired()], render_kw={"autocomplete": "current-password"})


class PasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired()],
                            render_kw={"autocomplete": "current-password"})
    # Checked by accounts.set_password alone, which looks up the account's details for it.
    password, confirm = _new_password_fields()


class WorkspaceForm(FlaskForm):
    name = StringField("Workspace name", validators=[DataRequired(), Length(max=NAME_MAX)])


class DeleteWorkspaceForm(FlaskForm):
    # Typed, not clicked: deleting a workspace cannot be undone (the view compares it with the name).
    name = StringField("Type the workspace's name to confirm", validators=[DataRequired(), Length(max=NAME_MAX)],
                       render_kw={"autocomplete": "off"})


class InviteForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES, default="editor")


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)
    confirmed = HiddenField()  # "yes" once an owner giving up their own ownership has been asked


class OwnerForm(FlaskForm):
    """An administrator's choice of owner for a workspace without an enabled one."""
    email = _email("off", "Email address of the new owner")
    confirmed = HiddenField()  # "yes" once the administrator has been asked


class ActionForm(FlaskForm):
    """A form with nothing but its CSRF token, for buttons that change something."""


def file_size(size: int) -> str:
    """A size in bytes as people read it: 1 MiB, 512 KiB, 1.5 MiB."""
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


class UploadField(FileField):
    """A required file field that states the server's size limit and lets the browser check it.

    Over the limit the whole request is refused unread (413), so the server cannot say which file
    was too large; the browser can, before sending it (app.js reads ``data-max-bytes``).
    """

    def __init__(self, label: str, accept: str, **kwargs):
        limit = current_app.config["MAX_CONTENT_LENGTH"]  # fields are built per request, in its context
        super().__init__(label, validators=[FileRequired()], description=f"At most {file_size(limit)}.",
                         render_kw={"accept": accept, "data-max-bytes": limit}, **kwargs)


class ImportForm(FlaskForm):
    file = UploadField("Answers file (JSON export, or YAML answers file)",
                       accept=".json,.yaml,.yml,application/json")
    title = StringField("Title of the new assessment", validators=[Optional(), Length(max=NAME_MAX)],
                        filters=[_stripped])


class RubricUploadForm(FlaskForm):
    file = UploadField("Rubric YAML file", accept=".yaml,.yml")


class NewAssessmentForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=NAME_MAX)],
                        description="For example: Readiness review, spring 2026")
    organization = StringField("Organization name", validators=[Length(max=NAME_MAX)])
    rubric = SelectField("Rubric")


class NewRoundForm(FlaskForm):
    rubric_version = SelectField("Rubric version of the new round",
                                 description="On a later version, answers to questions it no longer asks stay "
                                             "with this round, and its new questions start unanswered.")


def per_rubric_version(build):
    """A builder of form classes from a rubric, whose classes are built once per rubric version
    (and its other arguments) and kept: WTForms prepares a class on its first use, and a class
    built anew for each request spent more time on that than a dimension page on its fields."""
    @functools.wraps(build)
    def built(rubric: Rubric, *args):
        return cache("forms").get_or_make((build.__name__, rubric.id, rubric.version, *args),
                                          lambda: build(rubric, *args))
    return built


@per_rubric_version
def about_form(rubric: Rubric) -> type[FlaskForm]:
    """The organization page: title, name, one select per profile field of the rubric, opt-in."""
    fields = {
        "title": StringField("Title", validators=[DataRequired(), Length(max=NAME_MAX)]),
        "organization": StringField("Organization name", validators=[Length(max=NAME_MAX)]),
    }
    for item in rubric.profile:
        choices = [SelectChoice("", "Not specified")] + [SelectChoice(o.id, o.label) for o in item.options]
        fields[item.id] = SelectField(item.label, description=item.help, validators=[Optional()], choices=choices)
    fields["opt_in_benchmark"] = BooleanField(
        "Include this assessment, without its name, in peer comparisons within this installation",
        description="Included, its scores (overall and per dimension, with region, type and size) count in the "
                    "figures people in other workspaces see: quartiles and median, from at least five other "
                    "workspaces, never its name. Someone with several accounts could still narrow its scores down; "
                    "include it only if that is acceptable.")
    return type("AboutForm", (FlaskForm,), fields)


@per_rubric_version
def drivers_form(rubric: Rubric) -> type[FlaskForm]:
    """One importance choice per driver of the rubric."""
    choices = [SelectChoice(i.id, i.label) for i in rubric.importance]
    fields = {d.id: RadioField(d.name, description=d.description, choices=choices,
                               default=rubric.default_importance, validators=[InputRequired()])
              for d in rubric.drivers}
    return type("DriversForm", (FlaskForm,), fields)


@per_rubric_version
def barriers_form(rubric: Rubric) -> type[FlaskForm]:
    """Checkboxes of the rubric's barriers."""
    choices = [SelectChoice(b.id, b.name) for b in rubric.barriers]
    field = SelectMultipleField("Barriers your organization faces", choices=choices,
                                widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    return type("BarriersForm", (FlaskForm,), {"barriers": field})


def error_items(form) -> list[tuple[str, str, str]]:
    """Every error of a form, sub-forms included, as (field id, label, message), in page order."""
    items = []
    for field in form:
        if isinstance(field, FormField):
            items += [(sub.id, f"{field.label.text}: {sub.label.text}", m) for sub in field for m in sub.errors]
        else:
            items += [(field.id, field.label.text, m) for m in field.errors]
    return items


def aria_attributes(field, refused_by: str | None = None) -> dict[str, str]:
    """ARIA attributes tying a field to its help text and errors (rendered by _forms.html); with
    ``refused_by``, the id of the list of problems found in the file the field sent."""
    described = [f"{field.id}-help"] if field.description else []
    described += [f"{field.id}-errors"] if field.errors else []
    described += [refused_by] if refused_by else []
    attributes = {"aria_describedby": " ".join(described)} if described else {}
    return attributes | ({"aria_invalid": "true"} if field.errors or refused_by else {})


def level_choices(question: Question) -> list[SelectChoice]:
    """Every answer a question takes: its five level descriptions, then not applicable and don't know."""
    return ([SelectChoice(str(level), f"{level}: {question.levels[level]}") for level in LEVELS]
            + [SelectChoice(NOT_APPLICABLE, "Not applicable"), SelectChoice(DONT_KNOW, "Don't know")])


class _ChoiceSet:
    """A choice field that checks a submitted value against the set of its choices' values.

    WTForms' own check builds a normalized copy of every choice on each validation; for a
    dimension page's eighteen answer, basis and target fields that was 7% of an answer
    submission's instructions (callgrind). The choices must be ``SelectChoice``s; the check is
    the same: the coerced value must be one of them.
    """

    def pre_validate(self, form):
        if self.process_errors or not self.validate_choice:
            return
        if self.data not in {self.coerce(choice.value) for choice in self.choices}:
            raise ValidationError(self.invalid_choice_message or self.gettext("Not a valid choice."))


# Named as WTForms' own: a field's type, which the templates render by, is its class name.
_Radio = type("RadioField", (_ChoiceSet, RadioField), {})
_Select = type("SelectField", (_ChoiceSet, SelectField), {})


class _Copied(UnboundField):
    """An unbound field that binds by copying a field it bound once per name and prefix.

    Binding runs the field's constructor (its label, flags, choices and validators), which was
    half of building a dimension page's form of some thirty fields, on every answer submission.
    What the constructor makes depends on the arguments alone, and nothing changes it later; a
    copy gets the form it is bound to, and its data and errors are its own, set as it processes
    and validates (never on the field copied, which no form holds).
    """

    _neutral_meta = DefaultMeta()  # the copied field's, replaced in each copy by its form's

    def __init__(self, unbound: UnboundField):
        super().__init__(unbound.field_class, *unbound.args, name=unbound.name, **unbound.kwargs)
        self._bound: dict[tuple, object] = {}

    def bind(self, form, name, prefix="", translations=None, **kwargs):
        key = (name, prefix, translations, *kwargs.items())
        if key not in self._bound:
            self._bound[key] = self.field_class(*self.args, **dict(
                self.kwargs, name=name, _form=None, _meta=self._neutral_meta, _prefix=prefix,
                _translations=translations, **kwargs))
        field = object.__new__(self.field_class)
        field.__dict__.update(self._bound[key].__dict__)
        field._form, field.meta = form, form.meta
        return field


class _AnswerForm(Form):
    """One question's answer; ``_answer_form`` adds its ``value`` field with the question's levels."""

    basis = _Copied(_Radio("Basis", choices=[SelectChoice(b, BASIS_LABELS[b]) for b in BASES],
                           default="self_assessed", validators=[Optional()]))
    note = _Copied(TextAreaField("Evidence note (optional)", validators=[Length(max=NOTE_MAX)],
                                 description=f"What supports this answer: documents, systems, owners "
                                             f"(up to {NOTE_MAX} characters)."))

    def validate_note(self, field):
        if (field.data or "").strip() and not self.value.data:
            raise ValidationError("Choose an answer to keep this note, or clear the note.")


def chosen(value: str | None) -> str | None:
    """An optional choice field's value, or None when blank. Optional() ends validation on a
    blank or whitespace-only value, choices unchecked, so whitespace must count as no choice."""
    return value if value and value.strip() else None


def target_choices(question: Question, default_target: int) -> list[SelectChoice]:
    """The organization's own target for a question: the rubric's, or a level 1 to 4."""
    default = question.target or default_target
    return [SelectChoice("", f"The rubric’s target: level {default}")] + [
        SelectChoice(str(level), f"Level {level}") for level in LEVELS if level >= 1]


def _answer_form(question: Question, default_target: int | None) -> type[Form]:
    fields = {"value": _Copied(_Radio("Answer", validators=[Optional()], choices=level_choices(question)))}
    if default_target is not None:
        fields["target"] = _Copied(_Select(
            "Your target level", validators=[Optional()], choices=target_choices(question, default_target),
            description="Gaps are measured to this level. Raise it where this question matters more to you."))
    return type("AnswerForm", (_AnswerForm,), fields)


@per_rubric_version
def dimension_form(rubric: Rubric, dimension_id: str, targets: bool = True) -> type[FlaskForm]:
    """One sub-form per question of a dimension, named by question id; with a target choice per
    question (defaulting to the rubric's) when ``targets``: an organization's page, not a participant's."""
    dimension = next(d for d in rubric.dimensions if d.id == dimension_id)
    default_target = rubric.default_target if targets else None
    fields = {q.id: _Copied(FormField(_answer_form(q, default_target), label=q.title)) for q in dimension.questions}
    return type("DimensionForm", (FlaskForm,), fields)


# Workshops -----------------------------------------------------------------------------------

def workshop_form(rubric: Rubric) -> type[FlaskForm]:
    """The dimensions a new workshop covers, as checkboxes."""
    choices = [SelectChoice(d.id, d.title) for d in rubric.dimensions]
    field = SelectMultipleField("Dimensions the workshop covers", choices=choices,
                                validators=[DataRequired(message="Choose at least one dimension.")],
                                widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    return type("WorkshopForm", (FlaskForm,), {"dimensions": field})


class JoinCodeForm(FlaskForm):
    code = SecretCodeField("Join code", validators=[DataRequired(), Length(max=20)],
                       description="The eight characters shown by the facilitator.")


class JoinForm(FlaskForm):
    display_name = StringField("Your name, as the facilitator will see it",
                               validators=[DataRequired(), Length(max=80)])


class ConsensusForm(FlaskForm):
    # The empty choice is what a question nobody answered starts at, so that a stray click
    # records nothing rather than level 0.
    level = SelectField("Agreed level",
                        choices=[SelectChoice("", "Choose a level")]
                        + [SelectChoice(str(level), str(level)) for level in LEVELS],
                        validators=[InputRequired(message="Choose the level the group agreed on.")])
    rationale = TextAreaField(
        "Rationale",
        validators=[Length(max=RATIONALE_MAX, message=f"The rationale can be at most {RATIONALE_MAX} characters.")],
        description=f"Why the group settled on this level (up to {RATIONALE_MAX} characters).")
