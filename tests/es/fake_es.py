#!/usr/bin/env python3
"""fake_es.py: a local stand-in for ElasticSearch 8 that checks every request
against the documented REST API and answers with ES-shaped responses.

Its job is contract checking, not relevance: requests that break the
documented API get ES-shaped 400 errors and are recorded as violations
(GET /_fake/violations). Documents live in memory per index; aliases resolve;
documents indexed while refresh_interval is -1 become searchable only after
_refresh, as in ElasticSearch.

Test hooks (not ES API):
  POST /_fake/faults  JSON list, each fault consumed by the first matching
                      request:
                      {"endpoint": "bulk", "status": 429}      whole request
                      {"endpoint": "bulk", "status": 503}
                      {"endpoint": "bulk", "drop": true}       close, no answer
                      {"endpoint": "bulk", "items": {"<id>": 429, "<id>": 400}}
                      endpoint is one of bulk, search, aliases, create_index,
                      settings, refresh, delete_index, get_alias.
  GET  /_fake/violations  {"violations": [{"method","path","reason"}]}
  GET  /_fake/state       indices (docs, visible docs, refresh_interval),
                          aliases, alias_history (doc counts at each swap)
  GET  /_fake/requests    every request seen: method, path, status, and
                          connection (a number per TCP connection, counted
                          from 1 since the server started: requests that
                          share it came over one kept-alive connection)
  POST /_fake/reset       forget everything

Usage: fake_es.py [--host 127.0.0.1] [--port 0] [--port-file PATH]
Port 0 picks a free port; the chosen port is printed on stdout and written to
--port-file when given.
"""

import argparse
import datetime
import json
import re
import socket
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 100 * 1024 * 1024  # http.max_content_length default
RESULT_WINDOW = 10000

COMMON_PARAMS = {"pretty", "human", "error_trace", "filter_path", "format"}
PARAMS = {
    "create_index": {"wait_for_active_shards", "timeout", "master_timeout"},
    "put_template": {"create", "master_timeout", "cause"},
    "settings": {"preserve_existing", "timeout", "master_timeout", "flat_settings",
                 "ignore_unavailable", "allow_no_indices", "expand_wildcards", "reopen"},
    "bulk": {"refresh", "routing", "timeout", "wait_for_active_shards", "pipeline",
             "require_alias", "require_data_stream", "_source", "_source_includes",
             "_source_excludes", "list_executed_pipelines"},
    "refresh": {"ignore_unavailable", "allow_no_indices", "expand_wildcards"},
    "get_alias": {"ignore_unavailable", "allow_no_indices", "expand_wildcards", "local",
                  "master_timeout"},
    "aliases": {"timeout", "master_timeout"},
    "delete_index": {"timeout", "master_timeout", "ignore_unavailable", "allow_no_indices",
                     "expand_wildcards"},
    "search": {"from", "size", "q", "track_total_hits", "typed_keys", "rest_total_hits_as_int",
               "allow_no_indices", "ignore_unavailable", "expand_wildcards", "search_type",
               "request_cache", "preference", "routing", "timeout", "sort", "_source",
               "allow_partial_search_results", "batched_reduce_size", "ccs_minimize_roundtrips",
               "max_concurrent_shard_requests", "pre_filter_shard_size", "scroll",
               "seq_no_primary_term", "stats", "terminate_after", "track_scores", "version"},
    "get_index": {"ignore_unavailable", "allow_no_indices", "expand_wildcards",
                  "flat_settings", "include_defaults", "local", "master_timeout"},
    "info": set(),
}

FIELD_TYPES = {
    "text", "keyword", "long", "integer", "short", "byte", "double", "float", "half_float",
    "scaled_float", "unsigned_long", "date", "date_nanos", "boolean", "geo_point", "geo_shape",
    "object", "nested", "search_as_you_type", "completion", "ip", "flattened",
    "match_only_text", "wildcard", "constant_keyword", "dense_vector", "alias", "token_count",
    "binary", "integer_range", "long_range", "date_range", "rank_feature", "version",
}
FIELD_PARAMS = {
    "type", "analyzer", "search_analyzer", "search_quote_analyzer", "normalizer", "fields",
    "copy_to", "index", "doc_values", "store", "ignore_above", "null_value", "format",
    "properties", "dynamic", "enabled", "boost", "coerce", "ignore_malformed",
    "max_shingle_size", "similarity", "term_vector", "norms", "index_options",
    "position_increment_gap", "eager_global_ordinals", "fielddata", "scaling_factor", "meta",
    "include_in_parent", "include_in_root", "index_prefixes", "index_phrases",
    "ignore_z_value", "locale", "path", "split_queries_on_whitespace",
}
BUILTIN_ANALYZERS = {"standard", "simple", "whitespace", "stop", "keyword", "pattern",
                     "fingerprint", "english", "french", "german", "hindi"}
BUILTIN_FILTERS = {"lowercase", "uppercase", "asciifolding", "stop", "trim", "unique",
                   "porter_stem", "stemmer", "shingle", "edge_ngram", "ngram", "synonym",
                   "synonym_graph", "word_delimiter_graph", "elision", "kstem", "snowball",
                   "reverse", "truncate", "length", "classic", "apostrophe", "cjk_width",
                   "decimal_digit", "indic_normalization", "hindi_normalization"}
BUILTIN_TOKENIZERS = {"standard", "whitespace", "keyword", "letter", "lowercase", "classic",
                      "ngram", "edge_ngram", "pattern", "uax_url_email", "path_hierarchy"}
SEARCH_BODY_KEYS = {
    "query", "from", "size", "sort", "aggs", "aggregations", "_source", "track_total_hits",
    "highlight", "suggest", "post_filter", "min_score", "timeout", "track_scores", "explain",
    "fields", "stored_fields", "docvalue_fields", "search_after", "collapse", "rescore",
    "script_fields", "terminate_after", "indices_boost", "version", "seq_no_primary_term",
    "stats", "profile", "pit", "runtime_mappings", "knn",
}
MULTI_MATCH_TYPES = {"best_fields", "most_fields", "cross_fields", "phrase", "phrase_prefix",
                     "bool_prefix"}
QUERY_PARAMS = {
    "match_all": {"boost", "_name"},
    "bool": {"must", "filter", "should", "must_not", "minimum_should_match", "boost", "_name"},
    "multi_match": {"query", "fields", "type", "fuzziness", "tie_breaker", "operator",
                    "minimum_should_match", "analyzer", "boost", "prefix_length",
                    "max_expansions", "fuzzy_transpositions", "lenient", "zero_terms_query",
                    "auto_generate_synonyms_phrase_query", "slop", "fuzzy_rewrite", "_name"},
    "match_params": {"query", "operator", "fuzziness", "minimum_should_match", "analyzer",
                     "boost", "prefix_length", "max_expansions", "fuzzy_transpositions",
                     "lenient", "zero_terms_query", "auto_generate_synonyms_phrase_query",
                     "fuzzy_rewrite", "_name"},
    "range_params": {"gte", "gt", "lte", "lt", "format", "time_zone", "boost", "relation",
                     "_name"},
    "term_params": {"value", "boost", "case_insensitive", "_name"},
}
SORT_PARAMS = {"order", "missing", "unmapped_type", "mode", "numeric_type", "format", "nested"}
REFRESH_RE = re.compile(r"^(-1|0|[1-9][0-9]*(nanos|micros|ms|s|m|h|d))$")
INDEX_NAME_BAD = set('\\/*?"<>| ,#:')


class EsError(Exception):
    """An ES-shaped error answer; violation=True also records it."""

    def __init__(self, status, etype, reason, violation=True):
        super().__init__(reason)
        self.status = status
        self.etype = etype
        self.reason = reason
        self.violation = violation


def bad(reason, etype="illegal_argument_exception", status=400):
    return EsError(status, etype, reason, True)


def es_error_body(status, etype, reason):
    cause = {"type": etype, "reason": reason}
    return {"error": {"root_cause": [cause], "type": etype, "reason": reason},
            "status": status}


def valid_index_name(name):
    return (0 < len(name.encode()) <= 255 and name == name.lower()
            and not any(c in INDEX_NAME_BAD for c in name)
            and name[0] not in "-_+" and name not in (".", ".."))


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc)


def parse_date(text):
    """ES date math subset: now, now/d, YYYY-MM-DD, RFC 3339, '<date>||/d'."""
    round_up = False
    if "||" in text:
        text, math = text.split("||", 1)
        if math != "/d":
            raise bad("unsupported date math [%s]" % math, "parse_exception")
        round_up = True
    if text.startswith("now"):
        base, rest = now_utc(), text[3:]
        if rest not in ("", "/d", "/m", "/h"):
            raise bad("unsupported date math [%s]" % text, "parse_exception")
        return base
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            d = datetime.datetime.strptime(text, "%Y-%m-%d").replace(
                tzinfo=datetime.timezone.utc)
            if round_up:
                d += datetime.timedelta(days=1) - datetime.timedelta(milliseconds=1)
            return d
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise EsError(400, "parse_exception",
                      "failed to parse date field [%s]" % text, violation=False)


class Index:
    def __init__(self, name, settings, mappings):
        self.name = name
        self.settings = settings
        self.mappings = mappings
        self.docs = {}
        self.visible = {}
        self.versions = {}
        self.seq_no = 0
        flat = flatten_settings(settings)
        self.refresh_interval = str(flat.get("index.refresh_interval", "1s"))

    def refresh(self):
        self.visible = dict(self.docs)

    def searchable(self):
        # Anything but -1 refreshes on its own; the fake treats it as instant.
        return self.visible if self.refresh_interval == "-1" else self.docs


def flatten_settings(settings, prefix=""):
    out = {}
    for key, value in (settings or {}).items():
        full = prefix + key
        if isinstance(value, dict) and key != "analysis" and not full.endswith("analysis"):
            out.update(flatten_settings(value, full + "."))
        else:
            out[full if full.startswith("index.") else "index." + full] = value
    return out


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.connections = 0  # TCP connections accepted; survives reset
        self.reset()

    def reset(self):
        self.indices = {}
        self.aliases = {}
        self.templates = {}
        self.violations = []
        self.faults = []
        self.requests = []
        self.alias_history = []
        self.auto_id = 0

    def take_fault(self, endpoint):
        for i, fault in enumerate(self.faults):
            if fault.get("endpoint") == endpoint:
                return self.faults.pop(i)
        return None

    def resolve(self, target, must_exist=True):
        """Index names behind a comma-separated list of indices/aliases."""
        names = []
        for part in target.split(","):
            if part in self.indices:
                names.append(part)
            elif part in self.aliases:
                names.extend(sorted(self.aliases[part]))
            elif must_exist:
                raise EsError(404, "index_not_found_exception",
                              "no such index [%s]" % part, violation=False)
        return list(dict.fromkeys(names))


# ---- mapping and settings checks ----

def check_analysis(analysis):
    if not isinstance(analysis, dict):
        raise bad("analysis must be an object", "settings_exception")
    for section in analysis:
        if section not in ("analyzer", "filter", "tokenizer", "char_filter", "normalizer"):
            raise bad("unknown analysis section [%s]" % section, "settings_exception")
    filters = analysis.get("filter", {})
    for name, spec in filters.items():
        if not isinstance(spec, dict) or "type" not in spec:
            raise bad("token filter [%s] must have a type" % name)
        if spec["type"] in ("synonym", "synonym_graph"):
            syns = spec.get("synonyms")
            if "synonyms_path" not in spec and "synonyms_set" not in spec and (
                    not isinstance(syns, list) or not all(isinstance(s, str) for s in syns)):
                raise bad("synonym filter [%s] needs a list of synonyms" % name)
            for rule in syns or []:
                if not rule.strip() or rule.count("=>") > 1:
                    raise bad("failed to build synonyms: bad rule [%s]" % rule)
    for name, spec in analysis.get("analyzer", {}).items():
        if not isinstance(spec, dict):
            raise bad("analyzer [%s] must be an object" % name)
        kind = spec.get("type", "custom")
        if kind == "custom":
            tok = spec.get("tokenizer")
            if tok is None:
                raise bad("analyzer [%s] must specify either an analyzer type, or a "
                          "tokenizer" % name)
            if tok not in BUILTIN_TOKENIZERS and tok not in analysis.get("tokenizer", {}):
                raise bad("failed to find tokenizer under [%s]" % tok)
            for f in spec.get("filter", []):
                if f not in BUILTIN_FILTERS and f not in filters:
                    raise bad("failed to find filter under name [%s]" % f)
        elif kind not in BUILTIN_ANALYZERS:
            raise bad("Unknown analyzer type [%s] for [%s]" % (kind, name))


def check_settings(settings):
    if not isinstance(settings, dict):
        raise bad("settings must be an object", "settings_exception")
    flat = flatten_settings(settings)
    for key, value in flat.items():
        if key == "index.analysis":
            check_analysis(value)
        elif key == "index.refresh_interval":
            if not REFRESH_RE.match(str(value)):
                raise bad("failed to parse setting [index.refresh_interval] with value [%s]"
                          % value)
        elif key in ("index.number_of_shards", "index.number_of_replicas",
                     "index.max_result_window"):
            if not isinstance(value, int) and not str(value).isdigit():
                raise bad("failed to parse value [%s] for setting [%s]" % (value, key))
        elif key == "index.auto_expand_replicas":
            if not re.fullmatch(r"(\d+-(\d+|all))|false", str(value)):
                raise bad("failed to parse [index.auto_expand_replicas] from value [%s]"
                          % value)
        elif not key.startswith(("index.mapping.", "index.codec", "index.max_",
                                 "index.routing", "index.blocks", "index.sort")):
            raise bad("unknown setting [%s] please check that any required plugins are "
                      "installed, or check the breaking changes documentation for removed "
                      "settings" % key)
    return flat


def analyzers_of(settings):
    flat = flatten_settings(settings)
    return set(flat.get("index.analysis", {}).get("analyzer", {})) | BUILTIN_ANALYZERS


def check_properties(props, analyzers, path, all_fields):
    if not isinstance(props, dict):
        raise bad("properties of [%s] must be an object" % path, "mapper_parsing_exception")
    for name, spec in props.items():
        full = path + name
        if not isinstance(spec, dict):
            raise bad("Expected map for property [%s]" % full, "mapper_parsing_exception")
        ftype = spec.get("type", "object" if "properties" in spec else None)
        if ftype not in FIELD_TYPES:
            raise bad("No handler for type [%s] declared on field [%s]" % (ftype, full),
                      "mapper_parsing_exception")
        for param in spec:
            if param not in FIELD_PARAMS:
                raise bad("unknown parameter [%s] on mapper [%s] of type [%s]"
                          % (param, full, ftype), "mapper_parsing_exception")
        for key in ("analyzer", "search_analyzer"):
            if key in spec and spec[key] not in analyzers:
                raise bad("analyzer [%s] has not been configured in mappings" % spec[key],
                          "mapper_parsing_exception")
        if ftype == "search_as_you_type" and not 2 <= spec.get("max_shingle_size", 3) <= 4:
            raise bad("[max_shingle_size] must be at least [2] and at most [4]",
                      "mapper_parsing_exception")
        all_fields[full] = spec
        if ftype in ("object", "nested"):
            check_properties(spec.get("properties", {}), analyzers, full + ".", all_fields)
        for sub, subspec in spec.get("fields", {}).items():
            check_properties({sub: subspec}, analyzers, full + ".", all_fields)
    return all_fields


def check_mappings(mappings, settings):
    if not isinstance(mappings, dict):
        raise bad("mappings must be an object", "mapper_parsing_exception")
    for key in mappings:
        if key not in ("properties", "dynamic", "_source", "_meta", "dynamic_templates",
                       "date_detection", "numeric_detection", "_routing", "runtime"):
            raise bad("Root mapping definition has unsupported parameters: [%s]" % key,
                      "mapper_parsing_exception")
    if mappings.get("dynamic", True) not in (True, False, "true", "false", "strict",
                                             "runtime"):
        raise bad("unknown value for dynamic", "mapper_parsing_exception")
    fields = check_properties(mappings.get("properties", {}), analyzers_of(settings), "", {})
    for name, spec in fields.items():
        targets = spec.get("copy_to", [])
        for target in [targets] if isinstance(targets, str) else targets:
            if target not in fields:
                raise bad("copy_to field [%s] of [%s] does not exist in the mapping"
                          % (target, name), "mapper_parsing_exception")
    return fields


def check_index_body(body):
    if body is None:
        return {}, {}
    if not isinstance(body, dict):
        raise bad("request body must be an object", "parse_exception")
    for key in body:
        if key not in ("settings", "mappings", "aliases"):
            raise bad("unknown key [%s] for create index" % key, "parse_exception")
    settings = body.get("settings", {})
    mappings = body.get("mappings", {})
    check_settings(settings)
    check_mappings(mappings, settings)
    return settings, mappings


# ---- documents against mappings ----

def field_error(etype, reason):
    return {"type": etype, "reason": reason}


def check_value(spec, value, path):
    ftype = spec.get("type", "object")
    values = value if isinstance(value, list) else [value]
    for v in values:
        if v is None:
            continue
        if ftype in ("object", "nested"):
            if not isinstance(v, dict):
                return field_error("mapper_parsing_exception",
                                   "object mapping for [%s] tried to parse field [%s] as "
                                   "object, but found a concrete value" % (path, path))
            err = check_doc_props(spec.get("properties", {}), v, path + ".",
                                  spec.get("dynamic"))
            if err:
                return err
        elif isinstance(v, (dict, list)):
            if ftype == "geo_point" and isinstance(v, dict) and {"lat", "lon"} <= set(v):
                continue
            return field_error("mapper_parsing_exception",
                               "failed to parse field [%s] of type [%s]" % (path, ftype))
        elif ftype in ("long", "integer", "short", "byte"):
            ok = isinstance(v, int) and not isinstance(v, bool) or (
                isinstance(v, str) and re.fullmatch(r"-?\d+", v))
            if not ok:
                return field_error("mapper_parsing_exception",
                                   "failed to parse field [%s] of type [%s]" % (path, ftype))
        elif ftype == "date":
            try:
                parse_date(str(v))
            except EsError:
                return field_error("mapper_parsing_exception",
                                   "failed to parse field [%s] of type [date]" % path)
        elif ftype == "geo_point" and not isinstance(v, str):
            return field_error("mapper_parsing_exception",
                               "failed to parse field [%s] of type [geo_point]" % path)
    return None


def check_doc_props(props, doc, path, dynamic):
    for key, value in doc.items():
        if key not in props:
            if str(dynamic) == "strict":
                return field_error("strict_dynamic_mapping_exception",
                                   "[1:2] mapping set to strict, dynamic introduction of [%s] "
                                   "within [%s] is not allowed" % (key, path.rstrip(".") or
                                                                   "_doc"))
            continue
        err = check_value(props[key], value, path + key)
        if err:
            return err
    return None


# ---- search ----

def field_values(doc, path):
    """Values at a dotted path; 'x.keyword' reads x (a multi-field)."""
    parts = path.split(".")
    current = [doc]
    for part in parts:
        nxt = []
        for c in current:
            if isinstance(c, dict) and part in c:
                v = c[part]
                nxt.extend(v if isinstance(v, list) else [v])
            elif isinstance(c, (str, int, float)) and part in ("keyword", "suggest", "_2gram",
                                                               "_3gram", "_index_prefix"):
                nxt.append(c)
        current = nxt
    return [c for c in current if c is not None and not isinstance(c, dict)]


def tokens(text):
    return [t for t in re.split(r"\W+", str(text).lower()) if t]


def mapped_type(fields, path):
    spec = fields.get(path)
    return spec.get("type", "object") if spec else None


def check_query(q):
    if not isinstance(q, dict) or len(q) != 1:
        raise bad("[_na] query malformed, must start with start_object", "parsing_exception")
    (kind, params), = q.items()
    if kind in ("match_all", "bool", "multi_match"):
        if not isinstance(params, dict):
            raise bad("[%s] query malformed" % kind, "parsing_exception")
        for key in params:
            if key not in QUERY_PARAMS[kind]:
                raise bad("[%s] query does not support [%s]" % (kind, key),
                          "parsing_exception")
        if kind == "bool":
            for clause in ("must", "filter", "should", "must_not"):
                sub = params.get(clause, [])
                for s in sub if isinstance(sub, list) else [sub]:
                    check_query(s)
        if kind == "multi_match":
            if "query" not in params:
                raise bad("No text specified for multi_match query", "parsing_exception")
            mtype = params.get("type", "best_fields")
            if mtype not in MULTI_MATCH_TYPES:
                raise bad("failed to parse [multi_match] query type [%s]. unknown type."
                          % mtype, "parsing_exception")
            if "fuzziness" in params and mtype in ("cross_fields", "phrase", "phrase_prefix"):
                raise bad("Fuzziness not allowed for type [%s]" % mtype, "parsing_exception")
            if "slop" in params and mtype == "bool_prefix":
                raise bad("slop not allowed for type [bool_prefix]", "parsing_exception")
            fields = params.get("fields", [])
            if not isinstance(fields, list) or not all(
                    re.fullmatch(r"[\w.*]+(\^\d+(\.\d+)?)?", f) for f in fields):
                raise bad("[multi_match] fields must be field names with optional ^boost",
                          "parsing_exception")
        return
    if kind in ("term", "match", "range", "prefix"):
        if not isinstance(params, dict) or len(params) != 1:
            raise bad("[%s] query doesn't support multiple fields" % kind,
                      "parsing_exception")
        (field, spec), = params.items()
        allowed = {"term": "term_params", "prefix": "term_params", "match": "match_params",
                   "range": "range_params"}[kind]
        if isinstance(spec, dict):
            for key in spec:
                if key not in QUERY_PARAMS[allowed]:
                    raise bad("[%s] query does not support [%s]" % (kind, key),
                              "parsing_exception")
            if kind == "match" and spec.get("operator", "or").lower() not in ("and", "or"):
                raise bad("[match] unknown operator", "parsing_exception")
        elif kind == "range":
            raise bad("[range] query malformed, no start_object after query name",
                      "parsing_exception")
        return
    if kind in ("terms", "ids", "exists"):
        return
    raise bad("unknown query [%s]" % kind, "parsing_exception")


def eval_query(q, doc):
    (kind, params), = q.items()
    if kind == "match_all":
        return True
    if kind == "bool":
        def clauses(name):
            sub = params.get(name, [])
            return sub if isinstance(sub, list) else [sub]
        if not all(eval_query(s, doc) for s in clauses("must") + clauses("filter")):
            return False
        if any(eval_query(s, doc) for s in clauses("must_not")):
            return False
        should = clauses("should")
        default = 0 if clauses("must") or clauses("filter") else 1
        need = int(params.get("minimum_should_match", default)) if should else 0
        return sum(1 for s in should if eval_query(s, doc)) >= need
    if kind == "term":
        (field, spec), = params.items()
        value = spec.get("value") if isinstance(spec, dict) else spec
        return any(str(v) == str(value) for v in field_values(doc, field))
    if kind == "terms":
        field = [k for k in params if k != "boost"][0]
        return any(str(v) in [str(x) for x in params[field]] for v in field_values(doc, field))
    if kind == "exists":
        return bool(field_values(doc, params["field"]))
    if kind == "range":
        (field, spec), = params.items()
        for v in field_values(doc, field):
            try:
                if field.endswith("_at") or isinstance(v, str):
                    v = parse_date(str(v))
                    conv = parse_date
                else:
                    conv = float
                ok = True
                for op, bound in spec.items():
                    if op not in ("gte", "gt", "lte", "lt"):
                        continue
                    b = conv(str(bound)) if conv is parse_date else conv(bound)
                    ok = ok and {"gte": v >= b, "gt": v > b, "lte": v <= b, "lt": v < b}[op]
                if ok:
                    return True
            except (EsError, ValueError):
                continue
        return False
    if kind in ("match", "prefix"):
        (field, spec), = params.items()
        text = spec.get("query", spec.get("value")) if isinstance(spec, dict) else spec
        return text_match([field], text, all_terms=(isinstance(spec, dict) and str(
            spec.get("operator", "or")).lower() == "and"), doc=doc, prefix=kind == "prefix")
    if kind == "multi_match":
        fields = [re.sub(r"\^.*$", "", f) for f in params.get("fields", ["*"])]
        return text_match(fields, params["query"], params.get("operator") == "and", doc,
                          prefix=params.get("type") == "bool_prefix")
    if kind == "ids":
        return doc.get("_id") in params.get("values", [])
    return False


def text_match(fields, text, all_terms, doc, prefix=False):
    """Simple containment: a query word matches when a field word starts
    with it (prefix) or equals it."""
    words = set()
    for f in fields:
        if f == "*":
            f_vals = [v for v in doc.values() if isinstance(v, str)]
        else:
            f_vals = field_values(doc, f)
            for base in ("suggest",):
                if f.startswith(base):
                    f_vals = [doc.get(k) for k in ("title", "performer", "name", "number")
                              if doc.get(k)]
        for v in f_vals:
            words.update(tokens(v))
    qwords = tokens(text)
    if not qwords:
        return False

    def hit(w):
        return any(x == w or (prefix or len(w) >= 3) and x.startswith(w) for x in words)
    results = [hit(w) for w in qwords]
    return all(results) if all_terms else any(results)


def sort_key_fn(sort, fields_by_index):
    specs = []
    for entry in sort if isinstance(sort, list) else [sort]:
        if isinstance(entry, str):
            specs.append((entry, {}))
        elif isinstance(entry, dict) and len(entry) == 1:
            (field, spec), = entry.items()
            if isinstance(spec, str):
                spec = {"order": spec}
            for key in spec:
                if key not in SORT_PARAMS:
                    raise bad("[field_sort] unknown field [%s]" % key, "x_content_parse_exception")
            if spec.get("order", "asc") not in ("asc", "desc"):
                raise bad("[field_sort] order must be asc or desc")
            specs.append((field, spec))
        else:
            raise bad("malformed sort", "parsing_exception")
    for field, spec in specs:
        if field in ("_score", "_doc"):
            continue
        for fields in fields_by_index.values():
            t = mapped_type(fields, field)
            if t is None and "unmapped_type" not in spec:
                raise bad("No mapping found for [%s] in order to sort on" % field,
                          "query_shard_exception")
            if t in ("text", "search_as_you_type"):
                raise bad("Text fields are not optimised for operations that require "
                          "per-document field data like aggregations and sorting, so these "
                          "operations are disabled by default. Please use a keyword field "
                          "instead.")
    return specs


def apply_sort(hits, specs):
    for field, spec in reversed(specs):
        if field == "_score":
            hits.sort(key=lambda h: h["_score"] or 0, reverse=spec.get("order") != "asc")
            continue
        desc = spec.get("order", "asc") == "desc"
        present = [h for h in hits if field_values(h["_source"], field)]
        missing = [h for h in hits if not field_values(h["_source"], field)]
        present.sort(key=lambda h: str(field_values(h["_source"], field)[0]), reverse=desc)
        hits[:] = present + missing if spec.get("missing", "_last") == "_last" else \
            missing + present


def check_aggs(aggs, fields_by_index):
    if not isinstance(aggs, dict):
        raise bad("aggregations must be an object", "parsing_exception")
    for name, spec in aggs.items():
        kinds = [k for k in spec if k not in ("aggs", "aggregations", "meta")]
        if len(kinds) != 1:
            raise bad("Expected exactly one aggregation type for [%s]" % name,
                      "parsing_exception")
        kind = kinds[0]
        if kind != "terms":
            raise bad("the fake supports only terms aggregations, got [%s]" % kind,
                      "parsing_exception")
        params = spec[kind]
        for key in params:
            if key not in ("field", "size", "order", "min_doc_count", "missing", "include",
                           "exclude", "shard_size", "show_term_doc_count_error"):
                raise bad("[terms] unknown field [%s]" % key, "x_content_parse_exception")
        if not isinstance(params.get("size", 10), int) or params.get("size", 10) < 1:
            raise bad("[size] must be greater than 0. Found [%s] in [%s]"
                      % (params.get("size"), name))
        for fields in fields_by_index.values():
            if mapped_type(fields, params.get("field", "")) in ("text", "search_as_you_type"):
                raise bad("Text fields are not optimised for operations that require "
                          "per-document field data like aggregations and sorting, so these "
                          "operations are disabled by default. Please use a keyword field "
                          "instead.")


def run_aggs(aggs, docs):
    out = {}
    for name, spec in aggs.items():
        params = spec["terms"]
        counts = {}
        for d in docs:
            for v in set(str(x) for x in field_values(d, params["field"])):
                counts[v] = counts.get(v, 0) + 1
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        size = params.get("size", 10)
        out[name] = {"doc_count_error_upper_bound": 0,
                     "sum_other_doc_count": sum(c for _, c in ordered[size:]),
                     "buckets": [{"key": k, "doc_count": c} for k, c in ordered[:size]]}
    return out


# ---- HTTP ----

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-es/8"
    state = None  # set by serve()

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        super().setup()
        with self.state.lock:
            self.state.connections += 1
            self.connection_number = self.state.connections

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_HEAD(self):
        self.dispatch("HEAD")

    # -- plumbing --

    def send_json(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-elastic-product", "Elasticsearch")
        self.send_header("Content-Length", str(0 if self.command == "HEAD" else len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.last_status = status

    def dispatch(self, method):
        st = self.state
        self.last_status = 0
        parsed = urllib.parse.urlsplit(self.path)
        path = parsed.path
        try:
            query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True,
                                          strict_parsing=bool(parsed.query))
        except ValueError:
            query = {"": [""]}
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raw = self.read_chunked()
        else:
            try:
                n = int(length) if length is not None else 0
            except ValueError:
                n = -1
            if n < 0 or n > MAX_BODY:
                self.send_json(413, es_error_body(413, "content_too_long_exception",
                                                  "bad Content-Length"))
                return
            raw = self.rfile.read(n) if n else b""
        with st.lock:
            try:
                if path.startswith("/_fake/"):
                    status, obj = self.fake_api(method, path, raw)
                else:
                    status, obj = self.route(method, path, query, raw)
                st.requests.append({"method": method, "path": self.path, "status": status,
                                    "connection": self.connection_number})
            except DropConnection:
                st.requests.append({"method": method, "path": self.path, "status": 0,
                                    "connection": self.connection_number})
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            except EsError as e:
                if e.violation:
                    st.violations.append({"method": method, "path": self.path,
                                          "reason": "%s: %s" % (e.etype, e.reason)})
                st.requests.append({"method": method, "path": self.path, "status": e.status,
                                    "connection": self.connection_number})
                status, obj = e.status, es_error_body(e.status, e.etype, e.reason)
        self.send_json(status, obj)

    def read_chunked(self):
        data = b""
        while True:
            size = int(self.rfile.readline().strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return data
            data += self.rfile.read(size)
            self.rfile.readline()
            if len(data) > MAX_BODY:
                return data

    def content_type(self):
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    def json_body(self, raw, required):
        if not raw:
            if required:
                raise bad("request body is required", "parse_exception")
            return None
        ctype = self.content_type()
        if ctype not in ("application/json", "application/vnd.elasticsearch+json"):
            raise EsError(406, "media_type_header_exception",
                          "Content-Type header [%s] is not supported"
                          % self.headers.get("Content-Type", ""))
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise bad("Failed to parse request body: %s" % e, "x_content_parse_exception")

    def check_params(self, endpoint, query):
        allowed = PARAMS[endpoint] | COMMON_PARAMS
        for key in query:
            if key not in allowed:
                raise bad("request [%s] contains unrecognized parameter: [%s]"
                          % (self.path.split("?")[0], key))
        if endpoint == "bulk" and "refresh" in query and query["refresh"][0] not in (
                "", "true", "false", "wait_for"):
            raise bad("unknown value for refresh: [%s]" % query["refresh"][0])

    def fault(self, endpoint):
        f = self.state.take_fault(endpoint)
        if f is None:
            return None
        if f.get("drop"):
            raise DropConnection()
        status = f.get("status")
        if status == 429:
            raise EsError(429, "es_rejected_execution_exception",
                          "rejected execution of coordinating operation [fake]", False)
        if status == 503:
            raise EsError(503, "unavailable_shards_exception",
                          "[fake][0] primary shard is not active", False)
        if status:
            raise EsError(status, "fake_exception", "injected failure", False)
        return f

    # -- the test hooks --

    def fake_api(self, method, path, raw):
        st = self.state
        if method == "GET" and path == "/_fake/violations":
            return 200, {"violations": st.violations}
        if method == "GET" and path == "/_fake/requests":
            return 200, {"requests": st.requests}
        if method == "POST" and path == "/_fake/reset":
            st.reset()
            return 200, {"acknowledged": True}
        if method == "POST" and path == "/_fake/faults":
            faults = json.loads(raw.decode() or "[]")
            if not isinstance(faults, list):
                raise EsError(400, "fake_exception", "faults must be a list", False)
            st.faults.extend(faults)
            return 200, {"faults": len(st.faults)}
        if method == "GET" and path == "/_fake/state":
            aliases_of = {}
            for alias, idx in st.aliases.items():
                for i in idx:
                    aliases_of.setdefault(i, []).append(alias)
            return 200, {
                "indices": {n: {"docs": len(i.docs), "visible_docs": len(i.searchable()),
                                "refresh_interval": i.refresh_interval,
                                "aliases": sorted(aliases_of.get(n, []))}
                            for n, i in st.indices.items()},
                "aliases": {a: sorted(i) for a, i in st.aliases.items()},
                "alias_history": st.alias_history,
                "templates": sorted(st.templates),
                "pending_faults": st.faults,
            }
        raise EsError(404, "fake_exception", "no such test hook", False)

    # -- the ES API --

    def route(self, method, path, query, raw):
        parts = [urllib.parse.unquote(p) for p in path.split("/")[1:]] if path != "/" else []
        n = len(parts)
        if n == 0 and method in ("GET", "HEAD"):
            self.check_params("info", query)
            return 200, {"name": "fake", "cluster_name": "fake-es",
                         "version": {"number": "8.11.0", "build_flavor": "default"},
                         "tagline": "You Know, for Search"}
        if n == 1 and parts[0] == "_bulk" or n == 2 and parts[1] == "_bulk":
            if method not in ("POST", "PUT"):
                raise self.no_handler(method, path)
            return self.bulk(parts[0] if n == 2 else None, query, raw)
        if (n == 1 and parts[0] == "_search") or (n == 2 and parts[1] == "_search"):
            if method not in ("GET", "POST"):
                raise self.no_handler(method, path)
            return self.search(parts[0] if n == 2 else None, query, raw)
        if (n == 1 and parts[0] == "_refresh") or (n == 2 and parts[1] == "_refresh"):
            if method not in ("GET", "POST"):
                raise self.no_handler(method, path)
            return self.refresh(parts[0] if n == 2 else None, query, raw)
        if n == 1 and parts[0] == "_aliases":
            if method != "POST":
                raise self.no_handler(method, path)
            return self.update_aliases(query, raw)
        if n == 2 and parts[0] == "_alias" or n == 3 and parts[1] == "_alias":
            if method not in ("GET", "HEAD"):
                raise self.no_handler(method, path)
            return self.get_alias(parts[-1], parts[0] if n == 3 else None, query, raw)
        if n == 2 and parts[0] == "_index_template":
            if method != "PUT" and method != "POST":
                raise self.no_handler(method, path)
            return self.put_template(parts[1], query, raw)
        if n == 2 and parts[1] == "_settings":
            if method != "PUT":
                raise self.no_handler(method, path)
            return self.put_settings(parts[0], query, raw)
        if n == 1 and not parts[0].startswith("_"):
            if method == "PUT":
                return self.create_index(parts[0], query, raw)
            if method == "DELETE":
                return self.delete_index(parts[0], query, raw)
            if method in ("GET", "HEAD"):
                self.check_params("get_index", query)
                names = self.state.resolve(parts[0])
                return 200, {i: {"settings": self.state.indices[i].settings,
                                 "mappings": self.state.indices[i].mappings} for i in names}
        raise self.no_handler(method, path)

    def no_handler(self, method, path):
        return bad("no handler found for uri [%s] and method [%s]" % (path, method))

    def require_no_body(self, raw, what):
        if raw:
            raise bad("request [%s] does not support having a body" % what)

    def create_index(self, name, query, raw):
        self.check_params("create_index", query)
        if not valid_index_name(name):
            raise bad("Invalid index name [%s]" % name, "invalid_index_name_exception")
        body = self.json_body(raw, required=False)
        settings, mappings = check_index_body(body)
        self.fault("create_index")
        st = self.state
        if name in st.indices or name in st.aliases:
            raise EsError(400, "resource_already_exists_exception",
                          "index [%s/fake] already exists" % name, violation=False)
        st.indices[name] = Index(name, settings, mappings)
        for alias in (body or {}).get("aliases", {}):
            st.aliases.setdefault(alias, set()).add(name)
        return 200, {"acknowledged": True, "shards_acknowledged": True, "index": name}

    def put_template(self, name, query, raw):
        self.check_params("put_template", query)
        body = self.json_body(raw, required=True)
        if not isinstance(body, dict):
            raise bad("template must be an object", "parse_exception")
        for key in body:
            if key not in ("index_patterns", "template", "composed_of", "priority",
                           "version", "_meta", "data_stream", "allow_auto_create",
                           "ignore_missing_component_templates", "deprecated"):
                raise bad("[index_template] unknown field [%s]" % key,
                          "x_content_parse_exception")
        patterns = body.get("index_patterns")
        if isinstance(patterns, str):
            patterns = [patterns]
        if not patterns or not all(isinstance(p, str) for p in patterns):
            raise bad("Validation Failed: 1: index patterns are missing;",
                      "action_request_validation_exception")
        check_index_body(body.get("template", {}))
        self.state.templates[name] = body
        return 200, {"acknowledged": True}

    def put_settings(self, target, query, raw):
        self.check_params("settings", query)
        body = self.json_body(raw, required=True)
        if not isinstance(body, dict) or not body:
            raise bad("no settings to update", "action_request_validation_exception")
        flat = flatten_settings(body)
        for key, value in flat.items():
            if key != "index.refresh_interval" and key != "index.number_of_replicas":
                raise bad("Can't update non dynamic settings [[%s]] for open indices" % key)
            if key == "index.refresh_interval" and not REFRESH_RE.match(str(value)):
                raise bad("failed to parse setting [index.refresh_interval] with value [%s] "
                          "as a time value: unit is missing or unrecognized" % value)
        self.fault("settings")
        for name in self.state.resolve(target):
            if "index.refresh_interval" in flat:
                idx = self.state.indices[name]
                idx.refresh_interval = str(flat["index.refresh_interval"])
                if idx.refresh_interval != "-1":
                    idx.refresh()
        return 200, {"acknowledged": True}

    def refresh(self, target, query, raw):
        self.check_params("refresh", query)
        self.require_no_body(raw, "_refresh")
        self.fault("refresh")
        names = self.state.resolve(target) if target else list(self.state.indices)
        for name in names:
            self.state.indices[name].refresh()
        return 200, {"_shards": {"total": 2 * len(names), "successful": len(names),
                                 "failed": 0}}

    def delete_index(self, target, query, raw):
        self.check_params("delete_index", query)
        self.require_no_body(raw, "DELETE /<index>")
        st = self.state
        if target in st.aliases:
            raise bad("The provided expression [%s] matches an alias, specify the "
                      "corresponding concrete indices instead." % target)
        self.fault("delete_index")
        names = st.resolve(target)
        for name in names:
            del st.indices[name]
            for alias in list(st.aliases):
                st.aliases[alias].discard(name)
                if not st.aliases[alias]:
                    del st.aliases[alias]
        return 200, {"acknowledged": True}

    def get_alias(self, alias, target, query, raw):
        self.check_params("get_alias", query)
        self.require_no_body(raw, "_alias")
        self.fault("get_alias")
        st = self.state
        indices = sorted(st.aliases.get(alias, ()))
        if target is not None:
            indices = [i for i in indices if i in st.resolve(target)]
        if not indices:
            return 404, {"error": "alias [%s] missing" % alias, "status": 404}
        return 200, {i: {"aliases": {alias: {}}} for i in indices}

    def update_aliases(self, query, raw):
        self.check_params("aliases", query)
        body = self.json_body(raw, required=True)
        if not isinstance(body, dict) or set(body) != {"actions"} or not isinstance(
                body["actions"], list) or not body["actions"]:
            raise bad("Validation Failed: 1: no actions specified;",
                      "action_request_validation_exception")
        st = self.state
        planned = []
        for action in body["actions"]:
            if not isinstance(action, dict) or len(action) != 1:
                raise bad("[aliases] each action must be an object with one key",
                          "x_content_parse_exception")
            (verb, params), = action.items()
            if verb not in ("add", "remove", "remove_index"):
                raise bad("[alias_action] unknown field [%s]" % verb,
                          "x_content_parse_exception")
            allowed = {"index", "indices", "alias", "aliases", "filter", "routing",
                       "index_routing", "search_routing", "is_write_index", "is_hidden",
                       "must_exist"}
            if not isinstance(params, dict):
                raise bad("[%s] must be an object" % verb, "x_content_parse_exception")
            for key in params:
                if key not in allowed:
                    raise bad("[%s] unknown field [%s]" % (verb, key),
                              "x_content_parse_exception")
            indices = params.get("indices", [params["index"]] if "index" in params else [])
            aliases = params.get("aliases", [params["alias"]] if "alias" in params else [])
            if not indices:
                raise bad("Validation Failed: 1: One of [index] or [indices] is required;",
                          "action_request_validation_exception")
            if verb != "remove_index" and not aliases:
                raise bad("Validation Failed: 1: One of [alias] or [aliases] is required;",
                          "action_request_validation_exception")
            for i in indices:
                if i not in st.indices:
                    raise EsError(404, "index_not_found_exception", "no such index [%s]" % i,
                                  violation=False)
            for i in indices:
                for a in aliases:
                    if verb == "remove" and i not in st.aliases.get(a, ()) and params.get(
                            "must_exist", True):
                        raise EsError(404, "aliases_not_found_exception",
                                      "aliases [%s] missing" % a, violation=False)
            planned.append((verb, indices, aliases))
        self.fault("aliases")
        for verb, indices, aliases in planned:
            for i in indices:
                if verb == "remove_index":
                    del st.indices[i]
                    for a in list(st.aliases):
                        st.aliases[a].discard(i)
                for a in aliases:
                    if verb == "add":
                        st.aliases.setdefault(a, set()).add(i)
                    else:
                        st.aliases.get(a, set()).discard(i)
        for a in list(st.aliases):
            if not st.aliases[a]:
                del st.aliases[a]
        st.alias_history.append({
            "actions": body["actions"],
            "aliases": {a: {i: {"docs": len(st.indices[i].docs),
                                "visible_docs": len(st.indices[i].searchable())}
                            for i in sorted(idx)} for a, idx in st.aliases.items()}})
        return 200, {"acknowledged": True}

    def bulk(self, target, query, raw):
        self.check_params("bulk", query)
        if self.content_type() != "application/x-ndjson":
            raise bad("_bulk requires Content-Type: application/x-ndjson, got [%s]"
                      % self.headers.get("Content-Type", ""))
        if not raw:
            raise bad("Validation Failed: 1: no requests added;",
                      "action_request_validation_exception")
        if not raw.endswith(b"\n"):
            raise bad("The bulk request must be terminated by a newline [\\n]")
        try:
            lines = raw.decode("utf-8").split("\n")[:-1]
        except UnicodeDecodeError:
            raise bad("_bulk body is not UTF-8", "x_content_parse_exception")
        ops = []
        i = 0
        while i < len(lines):
            try:
                action = json.loads(lines[i])
            except ValueError:
                raise bad("Malformed action/metadata line [%d], expected START_OBJECT"
                          % (i + 1))
            if not isinstance(action, dict) or len(action) != 1:
                raise bad("Malformed action/metadata line [%d], expected a simple value "
                          "for field or START_OBJECT" % (i + 1))
            (verb, meta), = action.items()
            if verb not in ("index", "create", "update", "delete"):
                raise bad("Malformed action/metadata line [%d], expected one of "
                          "[create, delete, index, update] but found [%s]" % (i + 1, verb))
            if not isinstance(meta, dict):
                raise bad("Malformed action/metadata line [%d]" % (i + 1))
            for key in meta:
                if key not in ("_index", "_id", "routing", "version", "version_type",
                               "if_seq_no", "if_primary_term", "pipeline", "require_alias",
                               "dynamic_templates", "retry_on_conflict", "_source"):
                    raise bad("Action/metadata line [%d] contains an unknown parameter [%s]"
                              % (i + 1, key))
            index = meta.get("_index", target)
            if index is None:
                raise bad("Validation Failed: 1: index is missing;",
                          "action_request_validation_exception")
            if "_id" in meta and (not isinstance(meta["_id"], str) or not meta["_id"] or
                                  len(meta["_id"].encode()) > 512):
                raise bad("Validation Failed: 1: id must be a non-empty string of at most "
                          "512 bytes;", "action_request_validation_exception")
            source = None
            if verb != "delete":
                if i + 1 >= len(lines):
                    raise bad("Validation Failed: 1: the source line for action [%s] on line "
                              "[%d] is missing;" % (verb, i + 1),
                              "action_request_validation_exception")
                try:
                    source = json.loads(lines[i + 1])
                except ValueError:
                    raise bad("failed to parse source line [%d]" % (i + 2),
                              "x_content_parse_exception")
                if not isinstance(source, dict):
                    raise bad("source line [%d] must be a JSON object" % (i + 2),
                              "x_content_parse_exception")
                i += 1
            i += 1
            ops.append((verb, index, meta.get("_id"), source))
        fault = self.fault("bulk") or {}
        item_faults = fault.get("items", {})
        st = self.state
        items = []
        for verb, index, doc_id, source in ops:
            if doc_id is None:
                st.auto_id += 1
                doc_id = "auto-%d" % st.auto_id
            res = {"_index": index, "_id": doc_id}
            injected = item_faults.get(doc_id)
            names = st.resolve(index, must_exist=False)
            if injected == 429:
                res.update(status=429, error={
                    "type": "es_rejected_execution_exception",
                    "reason": "rejected execution of primary operation [fake]"})
            elif injected == 400:
                res.update(status=400, error={
                    "type": "mapper_parsing_exception",
                    "reason": "failed to parse field [starts_at] of type [date] in document "
                              "with id '%s'" % doc_id})
            elif not names:
                st.violations.append({"method": "POST", "path": self.path,
                                      "reason": "_bulk into missing index [%s] would "
                                                "auto-create it with dynamic mappings" % index})
                res.update(status=404, error={"type": "index_not_found_exception",
                                              "reason": "no such index [%s]" % index})
            elif len(names) > 1:
                res.update(status=400, error={
                    "type": "illegal_argument_exception",
                    "reason": "no write index is defined for alias [%s]" % index})
            else:
                idx = st.indices[names[0]]
                res["_index"] = idx.name
                err = None
                if verb in ("index", "create"):
                    err = check_doc_props(idx.mappings.get("properties", {}), source, "",
                                          idx.mappings.get("dynamic", True))
                if err:
                    res.update(status=400, error=err)
                elif verb == "create" and doc_id in idx.docs:
                    res.update(status=409, error={
                        "type": "version_conflict_engine_exception",
                        "reason": "[%s]: version conflict, document already exists" % doc_id})
                elif verb == "delete":
                    found = idx.docs.pop(doc_id, None) is not None
                    res.update(status=200 if found else 404,
                               result="deleted" if found else "not_found")
                elif verb == "update":
                    if doc_id not in idx.docs:
                        res.update(status=404, error={
                            "type": "document_missing_exception",
                            "reason": "[%s]: document missing" % doc_id})
                    else:
                        idx.docs[doc_id].update(source.get("doc", {}))
                        res.update(status=200, result="updated")
                else:
                    created = doc_id not in idx.docs
                    idx.docs[doc_id] = source
                    res.update(status=201 if created else 200,
                               result="created" if created else "updated")
                if res["status"] < 300:
                    idx.seq_no += 1
                    idx.versions[doc_id] = idx.versions.get(doc_id, 0) + 1
                    res.update(_version=idx.versions[doc_id], _seq_no=idx.seq_no,
                               _primary_term=1,
                               _shards={"total": 2, "successful": 1, "failed": 0})
            items.append({verb: res})
        errors = any(list(it.values())[0]["status"] >= 300 for it in items)
        return 200, {"took": 1, "errors": errors, "items": items}

    def search(self, target, query, raw):
        self.check_params("search", query)
        body = self.json_body(raw, required=False) or {}
        if not isinstance(body, dict):
            raise bad("request body must be an object", "parsing_exception")
        for key in body:
            if key not in SEARCH_BODY_KEYS:
                raise bad("Unknown key for a START_OBJECT in [%s]." % key, "parsing_exception")
        st = self.state
        names = st.resolve(target) if target else list(st.indices)
        fields_by_index = {n: check_mappings(st.indices[n].mappings, st.indices[n].settings)
                           for n in names}
        q = body.get("query", {"match_all": {}})
        check_query(q)
        size = body.get("size", int(query.get("size", ["10"])[0]))
        start = body.get("from", int(query.get("from", ["0"])[0]))
        if not isinstance(size, int) or not isinstance(start, int) or size < 0 or start < 0:
            raise bad("[from] and [size] must be non-negative integers")
        if start + size > RESULT_WINDOW:
            raise bad("Result window is too large, from + size must be less than or equal "
                      "to: [%d] but was [%d]." % (RESULT_WINDOW, start + size))
        tth = body.get("track_total_hits", 10000)
        if not isinstance(tth, (bool, int)):
            raise bad("[track_total_hits] must be a boolean or an integer")
        specs = sort_key_fn(body["sort"], fields_by_index) if "sort" in body else []
        aggs = body.get("aggs", body.get("aggregations"))
        if aggs is not None:
            check_aggs(aggs, fields_by_index)
        self.fault("search")
        hits = []
        for n in names:
            for doc_id, src in st.indices[n].searchable().items():
                if eval_query(q, src):
                    hits.append({"_index": n, "_id": doc_id, "_score": 1.0, "_source": src})
        matched = [h["_source"] for h in hits]
        if specs:
            apply_sort(hits, specs)
            for h in hits:
                h["_score"] = None
                h["sort"] = [str(field_values(h["_source"], f)[0])
                             if field_values(h["_source"], f) else None for f, _ in specs]
        total = len(hits)
        if tth is True or tth is False or total <= tth:
            total_obj = {"value": total, "relation": "eq"}
        else:
            total_obj = {"value": tth, "relation": "gte"}
        out = {"took": 1, "timed_out": False,
               "_shards": {"total": len(names), "successful": len(names), "skipped": 0,
                           "failed": 0},
               "hits": {"total": total_obj,
                        "max_score": None if specs or not hits else 1.0,
                        "hits": hits[start:start + size]}}
        if tth is False:
            del out["hits"]["total"]
        if aggs is not None:
            out["aggregations"] = run_aggs(aggs, matched)
        return 200, out


class DropConnection(Exception):
    """Close the connection without an answer (a network error)."""


def serve(host, port, port_file=None):
    Handler.state = State()
    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    actual = server.server_address[1]
    if port_file:
        with open(port_file + ".tmp", "w") as f:
            f.write("%d\n" % actual)
        import os
        os.replace(port_file + ".tmp", port_file)
    print(actual, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main(argv=None):
    parser = argparse.ArgumentParser(description="fake ElasticSearch for contract tests")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.port_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
