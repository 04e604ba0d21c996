"""What a delivery's rows must satisfy, one named check each.

Each check is a condition over one row ``r`` of the table ``j`` that ``validate`` joins once
(the staged row with its item, labeler, release, class, attributes and training coverage), and
the message a row that meets the condition gets. ``validate`` runs them all as one set-based
query; a test runs each alone on a row made to trip it.
"""

from __future__ import annotations

from dataclasses import dataclass

BOX_TOLERANCE_PX = 0.5  # tools round box corners; half a pixel past the edge is still inside
MAX_LEAD_TIME_S = 30 * 24 * 3600  # longer is a unit mistake, and would swamp every speed figure
MAX_COST = 10_000  # per label


# a box the later checks may compare: DuckDB orders NaN above every number, so a NaN corner
# would also read as outside the image (one problem, said once: box-not-finite)
_FINITE_BOX = (
    "isfinite(r.bbox_x) and isfinite(r.bbox_y) and isfinite(r.bbox_w) and isfinite(r.bbox_h)"
)

# a span that the item's text holds, at least one character long (the other span checks say
# what is wrong with any other, once)
_SPAN_INSIDE = (
    "r.span_start >= 0 and r.span_end > r.span_start and r.text_len is not null "
    "and r.span_end <= r.text_len"
)
_SPAN = "'[' || r.span_start || ', ' || r.span_end || ']'"
SHOWN_CHARS = 40  # of a text quoted in a message


def _quoted(text: str) -> str:
    """SQL for the text ``text`` (an SQL expression) as a message shows it: quoted, its line
    breaks and tabs escaped, cut to ``SHOWN_CHARS`` characters."""
    escaped = f"replace(replace(replace({text}, chr(13), '\\r'), chr(10), '\\n'), chr(9), '\\t')"
    cut = (
        f"case when length({escaped}) > {SHOWN_CHARS} "
        f"then left({escaped}, {SHOWN_CHARS - 3}) || '...' else {escaped} end"
    )
    return f"'\"' || {cut} || '\"'"


# The image a box must lie in: the registered size, else (a remote item registered by its uri
# alone) the size of the image the tool showed, when the tool reports it (Label Studio, COCO, CVAT)
_IMAGE_W = "coalesce(r.width, r.drawn_w)"
_IMAGE_H = "coalesce(r.height, r.drawn_h)"

# The tool reported the size of the image it showed (``drawn_w`` x ``drawn_h``) and it is not the
# registered one. Same shape, up to the half pixel each side a resize rounds to: a resized copy,
# whose boxes validation scales; another shape (cropped, padded, rotated): another image.
_DRAWN_ELSEWHERE = (
    "r.drawn_w is not null and r.width is not null and r.height is not null "
    "and (r.drawn_w <> r.width or r.drawn_h <> r.height)"
)
_SAME_SHAPE = (
    "abs(r.drawn_w * r.height - r.drawn_h * r.width) "
    "<= (greatest(r.drawn_w, r.width) + greatest(r.drawn_h, r.height)) / 2"
)
RESIZED_COPY = f"{_DRAWN_ELSEWHERE} and {_SAME_SHAPE}"


@dataclass(frozen=True)
class Check:
    name: str  # what tripped, for tests and docs: "box-outside-image"
    field: str  # the field a problem names
    condition: str  # SQL over the row r of j
    message: str  # SQL text expression; $dataset, $guideline ... are the import's parameters

    def select(self, rows: str = "j") -> str:
        """The rows of ``rows`` (``j`` or a subset of it) this check finds, with the problem
        each has."""
        return (
            f"select r.rec, r.\"where\", '{self.field}' as field, '{self.name}' as check_name, "
            f"{self.message} as message from {rows} r where {self.condition}"
        )


CHECKS = (
    Check(
        "item-unregistered",
        "item",
        "r.item_ref is not null and r.item_id is null",
        "'item ' || r.item_ref || ' is not registered in dataset ' || $dataset || ' (register it with `labelspec items add`)'",
    ),
    Check(
        "item-ambiguous",
        "item",
        "r.item_matches > 1",
        "'item reference ' || r.item_ref || ' matches ' || r.item_matches || ' items; use the item_id or the full path'",
    ),
    Check(
        "labeler-missing",
        "labeler",
        "r.labeler_id is null and $map_file is null and $per_item_file is null",
        "'no labeler: the file names none; pass --labeler ID, --labeler-map FILE or --labelers-per-item FILE'",
    ),
    Check(
        "labeler-not-per-item",
        "labeler",
        "r.labeler_id is null and $per_item_file is not null",
        "'item ' || coalesce(r.item_ref, '(none)') || ' has no labeler in ' || $per_item_file || ': add a line ' || coalesce(r.item_ref, 'ITEM') || ',LABELER'",
    ),
    Check(
        "labeler-unmapped",
        "labeler",
        "r.labeler_id is null and $map_file is not null",
        "'tool user ' || coalesce(r.labeler_ref, '(none)') || ' is not in the labeler map ' || $map_file",
    ),
    Check(
        "labeler-unknown",
        "labeler",
        "$roster and r.labeler_id is not null and r.ro_id is null",
        "'unknown labeler ' || r.labeler_id || ' (add it with `labelspec labeler add ' || r.labeler_id || ' --vendor ' || $source || '`)'",
    ),
    Check(
        "version-unreleased",
        "guideline_version",
        "r.v_digest is null",
        "'version ' || r.version || ' is not a release of ' || $guideline || ' (released: ' || r.v_known || ')'",
    ),
    Check(
        "class-unknown",
        "class",
        'r.v_digest is not null and r."class" is not null and r.c_class_id is null',
        "'unknown class ' || r.\"class\" || ' in ' || $guideline || ' ' || r.version || ' (known: ' || r.v_known || ')'",
    ),
    Check(
        "box-yolo-needs-size",
        "bbox",
        "r.bbox_units = 'yolo' and r.item_id is not null and (r.width is null or r.height is null)",
        "'a YOLO box is relative to the image size, and item ' || r.item_id || ' has no width and height (register it from the file, or give width and height in the items manifest)'",
    ),
    Check(
        "empty-with-objects",
        "empty",
        'r.empty and (r."class" is not null or r.bbox_x is not null or r.span_start is not null)',
        "'an empty answer (\"no objects here\") has no class, box or span: give either the empty answer or the objects'",
    ),
    Check(
        "empty-in-classification",
        "empty",
        "r.empty and r.v_task = 'classification'",
        "'an empty answer (\"no objects here\") is no answer under ' || $guideline || ', a classification guideline: every item gets one class (cancel or skip the task in the tool instead)'",
    ),
    Check(
        "empty-with-attributes",
        "empty",
        "r.empty and r.attributes is not null and r.attributes <> '{}'",
        "'an empty answer (\"no objects here\") carries no attributes'",
    ),
    Check(
        "empty-and-objects",
        "empty",
        "r.empty and r.mx_objects is not null",
        "'labeler ' || r.labeler_id || ' gave item ' || r.item_id || ' both an empty answer (\"no objects here\") and ' || r.mx_objects || ' object(s) in this delivery: keep one of them'",
    ),
    Check(
        "box-missing",
        "bbox",
        "r.v_task = 'detection' and r.bbox_x is null and r.item_id is not null and r.bbox_units is null and not coalesce(r.empty, false)",
        "'a box [x, y, w, h] is required: ' || $guideline || ' is a detection guideline'",
    ),
    Check(
        "box-not-finite",
        "bbox",
        "r.bbox_x is not null and not (isfinite(r.bbox_x) and isfinite(r.bbox_y) and isfinite(r.bbox_w) and isfinite(r.bbox_h))",
        "'box values must be finite numbers, got [' || r.bbox_x || ', ' || r.bbox_y || ', ' || r.bbox_w || ', ' || r.bbox_h || ']'",
    ),
    Check(
        "box-not-positive",
        "bbox",
        "r.v_task = 'detection' and (r.bbox_w <= 0 or r.bbox_h <= 0)",
        "'box width and height must be positive (got ' || r.bbox_w || ' x ' || r.bbox_h || ')'",
    ),
    Check(
        "box-outside-image",
        "bbox",
        f"r.v_task = 'detection' and {_FINITE_BOX} and r.bbox_w > 0 and r.bbox_h > 0 and (r.bbox_x < -{BOX_TOLERANCE_PX} or r.bbox_y < -{BOX_TOLERANCE_PX} "
        f"or r.bbox_x + r.bbox_w > {_IMAGE_W} + {BOX_TOLERANCE_PX} or r.bbox_y + r.bbox_h > {_IMAGE_H} + {BOX_TOLERANCE_PX})",
        "'box [' || r.bbox_x || ', ' || r.bbox_y || ', ' || r.bbox_w || ', ' || r.bbox_h || '] is outside the ' || "
        f"printf('%g', {_IMAGE_W}) || 'x' || printf('%g', {_IMAGE_H}) || ' image' || "
        "case when r.width is null then ' the tool showed (item ' || r.item_id || ' has no registered size)' else '' end",
    ),
    Check(
        "box-drawn-elsewhere",
        "bbox",
        f"r.bbox_x is not null and {_DRAWN_ELSEWHERE} and not ({_SAME_SHAPE})",
        "'the box was drawn on a ' || printf('%g', r.drawn_w) || 'x' || printf('%g', r.drawn_h) || ' image, but item ' || r.item_id || ' is registered as ' || r.width || 'x' || r.height || "
        # the size turned a quarter: a phone photo the tool showed upright by its EXIF
        # orientation, while its registered size is the stored pixels'
        "case when r.drawn_w = r.height and r.drawn_h = r.width then ', turned a quarter: the tool "
        "showed it upright by its EXIF orientation (store the photo with its pixels upright, e.g. "
        "`mogrify -auto-orient`, register that file and label it)' "
        "else ', another shape (cropped, padded or rotated?): label the registered file in the tool, or register the file the tool showed (`labelspec items add`)' end",
    ),
    Check(
        "box-too-small",
        "bbox",
        f"r.v_task = 'detection' and {_FINITE_BOX} and r.bbox_w > 0 and r.bbox_h > 0 "
        "and r.c_min_box_px is not null and least(r.bbox_w, r.bbox_h) < r.c_min_box_px",
        "'box is ' || r.bbox_w || 'x' || r.bbox_h || ' px, smaller than the ' || r.c_min_box_px || ' px minimum for ' || r.\"class\"",
    ),
    Check(
        "box-not-expected",
        "bbox",
        "r.v_task in ('classification', 'multilabel', 'ner') and r.bbox_x is not null",
        "'a box was given but ' || $guideline || ' is a ' || r.v_task || ' guideline'",
    ),
    Check(
        "span-missing",
        "span",
        "r.v_task = 'ner' and r.span_start is null and r.item_id is not null and not coalesce(r.empty, false) "
        "and r.span_unreadable is not true",
        "'a span [start, end] is required: ' || $guideline || ' is an ner guideline'",
    ),
    Check(
        "span-no-text",
        "span",
        "r.v_task = 'ner' and r.span_start is not null and r.text_len is null and r.item_id is not null",
        "'item ' || r.item_id || ' has no text to hold a span'",
    ),
    Check(
        "span-reversed",
        "span",
        "r.v_task = 'ner' and r.span_end < r.span_start",
        f"'span ' || {_SPAN} || ' ends before it starts: give [start, end] with start < end'",
    ),
    Check(
        "span-empty",
        "span",
        "r.v_task = 'ner' and r.span_end = r.span_start",
        f"'span ' || {_SPAN} || ' is empty (start = end): a span covers at least one character'",
    ),
    Check(
        "span-outside-text",
        "span",
        "r.v_task = 'ner' and r.span_end > r.span_start and r.text_len is not null and (r.span_start < 0 or r.span_end > r.text_len)",
        f"'span ' || {_SPAN} || ' is outside the item''s text (' || r.text_len || ' characters)'",
    ),
    Check(
        "span-too-short",
        "span",
        f"r.v_task = 'ner' and {_SPAN_INSIDE} and r.span_end - r.span_start < r.c_min_span_chars",
        f"'span ' || {_SPAN} || ' is ' || (r.span_end - r.span_start) || ' character(s) long, shorter than the ' "
        "|| r.c_min_span_chars || '-character minimum for ' || r.\"class\" || ' (rule ' || r.c_min_span_rule || ')'",
    ),
    Check(
        "span-text-differs",
        "span",
        f"r.v_task = 'ner' and {_SPAN_INSIDE} and r.span_text is not null "
        f"and regexp_replace(r.span_text, '\\s', '', 'g') <> regexp_replace(r.span_found, '\\s', '', 'g')",
        f"'span ' || {_SPAN} || ' covers ' || {_quoted('r.span_found')} || ' in the item''s text, but the tool "
        f"says it covers ' || {_quoted('r.span_text')} || ': the offsets point at other characters than the "
        "labeler marked (was the task''s text edited after labeling' || "
        # an emoji in what either side reads: an old Label Studio counted UTF-16 units
        "case when regexp_matches(r.span_found || r.span_text, '[\\x{10000}-\\x{10FFFF}]') "
        "then ', or are they UTF-16 offsets from an old Label Studio, which counts an emoji as two' "
        "else '' end || '?)'",
    ),
    Check(
        "span-not-expected",
        "span",
        "r.v_task in ('classification', 'multilabel', 'detection') and r.span_start is not null",
        "'a span was given but ' || $guideline || ' is a ' || r.v_task || ' guideline'",
    ),
    Check(
        "class-several",
        "class",
        "r.v_task = 'classification' and r.group_size > 1 and r.item_id is not null and r.labeler_id is not null",
        # one class every time: the same row twice, not two answers
        "case when r.same_class = r.group_size then 'class ' || r.\"class\" || ' is given ' || "
        "r.group_size || ' times in one annotation (a repeated row?): keep one' "
        "else 'one annotation has ' || r.group_size || ' labels of ' || r.group_classes || "
        "' classes; ' || $guideline || ' is single-label classification' end",
    ),
    Check(
        "box-twice",
        "bbox",
        "r.v_task = 'detection' and r.box_twice is not null",
        "case when r.box_classes = 1 then 'box [' || r.bbox_x || ', ' || r.bbox_y || ', ' || "
        "r.bbox_w || ', ' || r.bbox_h || '] of ' || r.\"class\" || ' is given ' || r.box_twice || "
        "' times in one annotation (a repeated row?): keep one' "
        "else 'box [' || r.bbox_x || ', ' || r.bbox_y || ', ' || r.bbox_w || ', ' || r.bbox_h || "
        "'] is given ' || r.box_classes || ' classes (' || r.box_class_list || '): a box has one "
        "class; draw one box per object' end",
    ),
    Check(
        "class-twice",
        "class",
        "r.v_task = 'multilabel' and r.same_class > 1 and r.item_id is not null and r.labeler_id is not null",
        "'class ' || r.\"class\" || ' is given twice in one annotation'",
    ),
    Check("attributes-invalid", "attributes", "r.a_problem is not null", "r.a_problem"),
    Check(
        "training-too-late",
        "training",
        "$policy = 'error' and not r.before_adoption and r.ro_id is not null and r.v_digest is not null and r.cov_training_id is null and r.cov_later_date is not null",
        "'labeler ' || r.labeler_id || ' was trained on ' || $guideline || ' ' || r.version || ' only on ' || r.cov_later_date || ', after this label (' || coalesce(r.created_at::DATE::VARCHAR, 'today') || '): a training covers the labels made on or after its date'",
    ),
    Check(
        "training-missing",
        "training",
        "$policy = 'error' and not r.before_adoption and r.ro_id is not null and r.v_digest is not null and r.cov_training_id is null and r.cov_later_date is null",
        "'labeler ' || r.labeler_id || ' holds no passing training record that covers ' || $guideline || ' ' || r.version || "
        "case when $plan is not null then ' (a relabel merge always needs it: train them with `labelspec labeler quiz` / `labeler train`)' "
        "else ' (train them: `labelspec labeler quiz` / `labeler train`, or set policies.training in labelspec.yaml)' end",
    ),
    Check(
        "created-at-unreal",
        "created_at",
        "r.created_at is not null and (not isfinite(r.created_at) or year(r.created_at) < 1990 "
        "or r.created_at > now() + interval 2 days)",
        "'must be a real time, not ' || r.created_at::VARCHAR || ' (a time in the past, ISO 8601 such as 2026-01-31T12:00:00Z)'",
    ),
    Check(
        "lead-time-not-finite",
        "lead_time_s",
        "not isfinite(r.lead_time_s)",
        "'must be a finite number of seconds, got ' || r.lead_time_s",
    ),
    Check("lead-time-negative", "lead_time_s", "r.lead_time_s < 0", "'must not be negative'"),
    Check(
        "lead-time-too-long",
        "lead_time_s",
        f"isfinite(r.lead_time_s) and r.lead_time_s > {MAX_LEAD_TIME_S}",
        "'is ' || r.lead_time_s || ' s, more than 30 days for one label: milliseconds given as seconds?'",
    ),
    Check(
        "cost-not-finite",
        "cost",
        "not isfinite(r.cost)",
        "'must be a finite number, got ' || r.cost",
    ),
    Check("cost-negative", "cost", "r.cost < 0", "'must not be negative'"),
    Check(
        "cost-too-high",
        "cost",
        f"isfinite(r.cost) and r.cost > {MAX_COST}",
        f"'is ' || r.cost || ' for one label, more than {MAX_COST:,}: cents or a total given as a price per label?'",
    ),
    Check(
        "plan-item-outside",
        "item",
        "$plan is not null and r.item_id is not null and r.item_id not in (select item_id from plan_items)",
        "'item ' || r.item_id || ' is not in relabel plan ' || $plan",
    ),
    Check(
        "plan-other",
        "item",
        "$plan is not null and json_extract_string(r.tool_fields, '$.relabel_plan') is distinct from $plan "
        "and json_extract_string(r.tool_fields, '$.relabel_plan') is not null",
        "'this task belongs to relabel plan ' || json_extract_string(r.tool_fields, '$.relabel_plan') || ', not ' || $plan || ': merge its export into that plan'",
    ),
    Check(
        "plan-version",
        "guideline_version",
        "$plan is not null and r.version <> $default_version",
        "'relabel plan ' || $plan || ' is labeled under ' || $default_version || ', not ' || r.version",
    ),
)


def found_by(checks=CHECKS, rows: str = "j") -> str:
    """One query for every problem the checks find in ``rows``."""
    return " union all ".join(check.select(rows) for check in checks)


def flagging(checks=CHECKS) -> str:
    """The rows of ``j`` that any check finds, in one pass: ``j`` is a view (every pass joins
    again), and most deliveries have no such row, so ``found_by`` then reads a handful."""
    return "select * from j r where " + " or ".join(f"({c.condition})" for c in checks)
