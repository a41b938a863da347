/* The JSON document of a fleet run (jansson): {"targets": [{"name", "state", "applied",
 * "error", "ms"}, ...], "ok", "failed", "skipped"} and, when a module has
 * `scope: control`, "control" with a target's shape. */
#include "report/report_fleet.h"

#include "report/report_json.h"
#include "schema/snapshot_json.h"
#include "util/json_out.h"

static const char *state_name(mig_fleet_state s)
{
	return s == MIG_TARGET_OK ? "ok" : s == MIG_TARGET_FAILED ? "failed" : "skipped";
}

static json_t *result_json(const mig_fleet_result *r, mig_fleet_op op)
{
	json_t *applied = json_array();
	for (size_t i = 0; applied && i < r->napplied; i++)
		json_array_append_new(applied,
				      json_pack("{s:s, s:I, s:s, s:I}", "module", r->applied[i].module,
						"version", (json_int_t)r->applied[i].version, "name",
						r->applied[i].name, "ms", (json_int_t)r->applied[i].ms));
	json_t *error = json_null();
	if (r->state == MIG_TARGET_FAILED) {
		error = json_pack("{s:s, s:i}", "message", r->error.message, "exit",
				  mig_exit_status(r->error.code));
		if (error && r->error.sqlstate[0])
			json_object_set_new(error, "sqlstate", json_string(r->error.sqlstate));
		if (error && r->error.line)
			json_object_set_new(error, "line", json_integer(r->error.line));
	}
	json_t *doc = json_pack("{s:s, s:s, s:o, s:o, s:I}", "name", r->name, "state",
				state_name(r->state), "applied", applied, "error", error, "ms",
				(json_int_t)r->ms);
	if (doc && op == MIG_FLEET_STATUS && r->state == MIG_TARGET_OK) {
		json_object_set_new(doc, "pending", json_integer((json_int_t)r->pending));
		json_object_set_new(doc, "up_to_date", json_boolean(!r->behind));
	}
	if (doc && (op == MIG_FLEET_VERIFY || op == MIG_FLEET_SEED) && r->state == MIG_TARGET_OK)
		json_object_set_new(doc, "problems", json_integer((json_int_t)r->problems));
	if (doc && op == MIG_FLEET_DRIFT && r->state == MIG_TARGET_OK) {
		json_object_set_new(doc, "drift", json_boolean(r->drift.n > 0));
		json_object_set_new(doc, "differences", mig_diff_to_json(&r->drift));
	}
	/* verify: what the count counts, as verify reports it for one database */
	if (doc && op == MIG_FLEET_VERIFY && r->state == MIG_TARGET_OK)
		json_object_set_new(doc, "postgres", mig_report_sql_problems_json(
							     r->files, r->nfiles, r->objects, r->nobjects));
	if (doc && op == MIG_FLEET_SEED && r->state == MIG_TARGET_OK)
		json_object_set_new(doc, "created", json_integer((json_int_t)r->created));
	return doc;
}

int mig_fleet_report_json(FILE *out, const mig_fleet_report *r, mig_fleet_op op,
			  mig_error *err)
{
	json_t *list = json_array();
	for (size_t i = 0; list && i < r->n; i++)
		json_array_append_new(list, result_json(&r->results[i], op));
	json_t *doc = json_pack("{s:o, s:I, s:I, s:I, s:I}", "targets", list, "ok",
				(json_int_t)r->ok, "failed", (json_int_t)r->failed, "skipped",
				(json_int_t)r->skipped, "ms", (json_int_t)r->ms);
	if (doc && r->has_control)
		json_object_set_new(doc, "control", result_json(&r->control, op));
	return mig_json_emit(out, doc, err);
}
