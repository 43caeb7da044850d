"""Ask (staff): chat over approved learning points; answers stream, cite their sources as links, and can be rated."""

from __future__ import annotations

import gradio as gr

from assistant.auth import Actor, Permission
from assistant.cases import load_case
from assistant.chat import Citation, rate_answer, stream_answer
from assistant.errors import InvalidInput, NotFound
from ui.context import AppContext, friendly_errors, t
from ui.debrief_tab import parse_date
from ui.filters import case_filter_inputs
from ui.labels import Labels
from ui.render import answer_markdown, case_html, escape_markdown, message_html, parse_citation_target
from vectorstore.schema import SearchFilters

# Citation links in the chat are fragments (render.citation_target). One capturing listener on the page turns
# a click on such a link into this tab's "cite" event instead of letting the browser follow it.
CITE_LINK_JS = """
const handler = (event) => {
  const link = event.target.closest ? event.target.closest('a[href^="#cite-"]') : null;
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  trigger('cite', {target: link.getAttribute('href')});
  element.scrollIntoView({behavior: 'smooth', block: 'start'});
};
if (window.dbCiteLinkHandler) document.removeEventListener('click', window.dbCiteLinkHandler, true);
window.dbCiteLinkHandler = handler;
document.addEventListener('click', handler, true);
"""


def went_well_choices(language: str) -> list[tuple[str, str]]:
    return [(t("ask.went_well_all", language), "all"), (t("ask.went_well_only", language), "only"),
            (t("ask.went_well_none", language), "none")]


def search_filters(sectors, unit, category, since, until, went_well) -> SearchFilters:
    return SearchFilters(
        sectors=set(sectors or []), units={unit.strip()} if unit and unit.strip() else set(),
        categories={category} if category else set(), since=parse_date(since), until=parse_date(until),
        include_safety_ii={"only": True, "none": False}.get(went_well or "all"),
    )


def visible_points(ctx: AppContext, actor: Actor, case_id: str):
    """The approved points of a cited case that ``actor`` may read (public ones for anonymous readers)."""
    actor.require(Permission.read_public_points)
    allowed = {"public", "staff"} if actor.can(Permission.read_staff_points) else {"public"}
    case = load_case(ctx.runtime.db, case_id)
    points = [p for p in case.learning_points if p.status == "approved" and p.visibility in allowed]
    if not points:
        raise NotFound("record.not_found", what=case_id)
    # Only the approved points and their context; the transcript stays with reviewers.
    return case.model_copy(update={"segments": [], "isbar": [], "learning_points": points})


def sources_markdown(sources: list[Citation], language: str) -> str:
    """The retrieved points, listed while the answer is being written (escaped: titles are people's text)."""
    lines = [f"*{t('ask.reading_sources', language, count=len(sources))}*"]
    lines += [f"- {escape_markdown(c.title)} {escape_markdown(c.label)}" for c in sources]
    return "\n".join(lines)


def build(ctx: AppContext, labels: Labels, lang: gr.Dropdown) -> None:
    runtime = ctx.runtime
    with gr.Accordion(t("ask.filters", "da"), open=False) as filters_box:
        with gr.Row():
            sectors, unit, category, since, until = case_filter_inputs(labels)
            went_well = labels.make(gr.Radio, "ask.went_well", value="all",
                                    extra=lambda lang: {"choices": went_well_choices(lang)})
    labels.register(filters_box, "ask.filters")
    # Markdown only for our citation links: every message is escaped first (render.answer_markdown), and
    # neither LaTeX nor custom tags are rendered.
    chat = labels.make(gr.Chatbot, "ask.chat", render_markdown=True, sanitize_html=True, allow_tags=False,
                       latex_delimiters=[], feedback_options=None, height=360, elem_id="db-ask-chat")
    with gr.Row():
        question = labels.make(gr.Textbox, "ask.question", scale=5,
                               extra=lambda lang: {"placeholder": t("ask.question_placeholder", lang)})
        send = labels.button("ask.send", variant="primary", scale=1)
    with gr.Row():
        cited = labels.make(gr.Dropdown, "ask.citations", choices=[], scale=4)
        show = labels.button("ask.show_case", scale=1)
    cited_view = gr.HTML(js_on_load=CITE_LINK_JS, elem_id="db-ask-cited")
    citation_link = gr.Textbox(visible=False)  # the link target, for API callers of open_citation
    open_citation_button = gr.Button(visible=False)
    with gr.Row():
        comment = labels.make(gr.Textbox, "ask.comment", scale=4)
        helpful = labels.button("ask.helpful", scale=1)
        unhelpful = labels.button("ask.unhelpful", scale=1)
    rated = gr.HTML()
    last = gr.State(None)  # the last question, answer and cited ids, kept server-side for rating

    @friendly_errors
    def ask(language, question_value, history, sectors_value, unit_value, category_value, since_value,
            until_value, went_well_value, request: gr.Request):
        if not question_value or not question_value.strip():
            raise InvalidInput("ask.empty_question")
        actor = ctx.actor(request)
        filters = search_filters(sectors_value, unit_value, category_value, since_value, until_value,
                                 went_well_value)
        history = list(history or []) + [{"role": "user", "content": escape_markdown(question_value)},
                                         {"role": "assistant", "content": ""}]
        yield history, gr.update(), None, ""
        answer, citations = "", []
        for event in stream_answer(runtime.index, runtime.components.chat, runtime.settings, actor,
                                   question_value, filters, language=language):
            if event.sources:
                # Shown while the model reads them (seconds on a small machine): what was found, openable at once.
                history[-1] = {"role": "assistant", "content": sources_markdown(event.sources, language)}
                sources = [(f"{c.title} {c.label}", c.case_id) for c in event.sources]
                yield history, gr.update(choices=sources, value=None), None, ""
                continue
            answer += event.text_delta
            if answer:
                history[-1] = {"role": "assistant", "content": answer_markdown(answer)}
            if event.done:
                citations = event.citations
            yield history, gr.update(), None, ""
        # Links only once the answer is complete and it is known which points it cited.
        history[-1] = {"role": "assistant", "content": answer_markdown(answer, citations)}
        choices = [(f"{c.title} {c.label}", c.case_id) for c in citations]
        state = {"question": question_value, "answer": answer,
                 "cited_ids": [c.learning_point_id for c in citations]}
        yield history, gr.update(choices=choices, value=choices[0][1] if choices else None), state, ""

    @friendly_errors
    def show_cited(language, case_value, request: gr.Request):
        if not case_value:
            return ""
        return case_html(visible_points(ctx, ctx.actor(request), case_value), language)

    @friendly_errors
    def open_citation(language, link_value, evt: gr.EventData, request: gr.Request):
        # From the page the clicked link's target comes with the event; API callers pass it as a value.
        data = getattr(evt, "_data", None)
        target = data.get("target") if isinstance(data, dict) and data.get("target") else link_value
        cited_ids = parse_citation_target(target or "")
        if cited_ids is None:
            raise InvalidInput("input.invalid", reason=str(target or "")[:80])
        case_id, point_id = cited_ids
        case = visible_points(ctx, ctx.actor(request), case_id)
        # The cited point first; the case's other approved points follow for context.
        return case_html(case, language, points=sorted(case.learning_points, key=lambda p: p.id != point_id),
                         cited_point=point_id)

    def rate(is_helpful: bool):
        @friendly_errors
        def handler(language, state, comment_value, request: gr.Request):
            if not state:
                raise InvalidInput("ask.empty_question")
            rate_answer(runtime.db, ctx.actor(request), state["question"], state["answer"], state["cited_ids"],
                        is_helpful, comment_value or None)
            return message_html(t("ask.thanks", language), "ok"), ""

        return handler

    filters = [sectors, unit, category, since, until, went_well]
    send.click(ask, [lang, question, chat, *filters], [chat, cited, last, question], api_name="ask")
    question.submit(ask, [lang, question, chat, *filters], [chat, cited, last, question], api_visibility="private")
    show.click(show_cited, [lang, cited], cited_view, api_name="cited_case")
    cited.change(show_cited, [lang, cited], cited_view, api_visibility="private")
    cited_view.cite(open_citation, [lang, citation_link], cited_view, api_name="open_clicked_citation",
                    api_visibility="private")
    open_citation_button.click(open_citation, [lang, citation_link], cited_view, api_name="open_citation")
    helpful.click(rate(True), [lang, last, comment], [rated, comment], api_name="rate_helpful")
    unhelpful.click(rate(False), [lang, last, comment], [rated, comment], api_name="rate_unhelpful")
