#!/usr/bin/env python3
"""test_fake_es.py: the fake ElasticSearch rejects what ES rejects, accepts
our mappings, and answers in ES's documented shapes. Run:
python3 -m unittest tests/es/test_fake_es.py (or run this file)."""

import http.client
import json
import os
import sys
import threading
import unittest
from http.server import ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fake_es  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAPPINGS = os.path.join(ROOT, "es-mappings")

EVENT = {"id": "1", "type": "event", "title": "Coldplay Live", "performer": "Coldplay",
         "category": "concert", "venue": "DY Patil Stadium", "city": "Mumbai",
         "location": {"lat": 19.04, "lon": 73.03}, "starts_at": "2099-01-18T19:30:00+05:30",
         "price_min": 250000, "price_max": 3500000, "currency": "INR",
         "seats_available": 40000}


def load(name):
    with open(os.path.join(MAPPINGS, name)) as f:
        return json.load(f)


class FakeEsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        fake_es.Handler.state = fake_es.State()
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), fake_es.Handler)
        cls.server.daemon_threads = True
        cls.port = cls.server.server_address[1]
        cls.thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        cls.thread.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def setUp(self):
        self.call("POST", "/_fake/reset")

    def call(self, method, path, body=None, ctype="application/json"):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        headers = {}
        if body is not None:
            if not isinstance(body, (bytes, str)):
                body = json.dumps(body)
            if isinstance(body, str):
                body = body.encode()
            if ctype:
                headers["Content-Type"] = ctype
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, (json.loads(data) if data else None)

    def violations(self):
        return self.call("GET", "/_fake/violations")[1]["violations"]

    def make_index(self, name="boxoffice-events-v1"):
        status, body = self.call("PUT", "/" + name, load("events.json"))
        self.assertEqual(status, 200, body)
        return name

    def bulk(self, path, docs, ctype="application/x-ndjson"):
        lines = []
        for doc_id, doc in docs:
            lines.append(json.dumps({"index": {"_id": doc_id}}))
            lines.append(json.dumps(doc))
        return self.call("POST", path, "\n".join(lines) + "\n", ctype)

    # -- our mappings are valid --

    def test_mappings_and_templates_are_accepted(self):
        for name in ("events", "trains"):
            status, body = self.call("PUT", "/boxoffice-%s-v1" % name, load(name + ".json"))
            self.assertEqual(status, 200, body)
            self.assertEqual(body, {"acknowledged": True, "shards_acknowledged": True,
                                    "index": "boxoffice-%s-v1" % name})
            status, body = self.call("PUT", "/_index_template/boxoffice-" + name,
                                     load("templates/boxoffice-%s.json" % name))
            self.assertEqual(status, 200, body)
        self.assertEqual(self.violations(), [])

    def test_templates_carry_the_same_body_as_the_mappings(self):
        for name in ("events", "trains"):
            tpl = load("templates/boxoffice-%s.json" % name)
            self.assertEqual(tpl["template"], load(name + ".json"))
            self.assertEqual(tpl["index_patterns"], ["boxoffice-%s-*" % name])

    def test_city_synonyms_are_pairs_of_lowercase_words(self):
        syn = load("events.json")["settings"]["index"]["analysis"]["filter"]["city_synonyms"]
        rules = syn["synonyms"]
        self.assertIn("bombay, mumbai", rules)
        self.assertIn("madras, chennai", rules)
        for rule in rules:
            self.assertEqual(rule, rule.lower())
            self.assertGreaterEqual(len(rule.split(",")), 2)

    # -- index creation --

    def test_unknown_mapping_parameter_is_a_violation(self):
        body = {"mappings": {"properties": {"title": {"type": "text", "analyser": "x"}}}}
        status, answer = self.call("PUT", "/bad", body)
        self.assertEqual(status, 400)
        self.assertEqual(answer["error"]["type"], "mapper_parsing_exception")
        self.assertEqual(answer["status"], 400)
        self.assertEqual(len(self.violations()), 1)

    def test_undefined_analyzer_and_copy_to_are_rejected(self):
        status, _ = self.call("PUT", "/bad", {"mappings": {"properties": {
            "t": {"type": "text", "analyzer": "nope"}}}})
        self.assertEqual(status, 400)
        status, _ = self.call("PUT", "/bad", {"mappings": {"properties": {
            "t": {"type": "text", "copy_to": "missing"}}}})
        self.assertEqual(status, 400)

    def test_existing_index_is_a_normal_es_error_not_a_violation(self):
        self.make_index()
        status, body = self.call("PUT", "/boxoffice-events-v1", load("events.json"))
        self.assertEqual(status, 400)
        self.assertEqual(body["error"]["type"], "resource_already_exists_exception")
        self.assertEqual(self.violations(), [])

    def test_uppercase_index_name_is_rejected(self):
        status, body = self.call("PUT", "/Events", {})
        self.assertEqual(status, 400)
        self.assertEqual(body["error"]["type"], "invalid_index_name_exception")

    def test_json_body_needs_a_json_content_type(self):
        status, body = self.call("PUT", "/x", load("events.json"), ctype="text/plain")
        self.assertEqual(status, 406)
        self.assertEqual(len(self.violations()), 1)

    # -- _bulk --

    def test_bulk_indexes_and_answers_in_es_shape(self):
        self.make_index()
        status, body = self.bulk("/boxoffice-events-v1/_bulk", [("1", EVENT)])
        self.assertEqual(status, 200, body)
        self.assertFalse(body["errors"])
        item = body["items"][0]["index"]
        self.assertEqual(item["status"], 201)
        self.assertEqual(item["_id"], "1")
        self.assertEqual(item["result"], "created")
        self.assertEqual(self.violations(), [])

    def test_bulk_without_trailing_newline_is_rejected(self):
        self.make_index()
        body = json.dumps({"index": {"_id": "1"}}) + "\n" + json.dumps(EVENT)
        status, answer = self.call("POST", "/boxoffice-events-v1/_bulk", body,
                                   "application/x-ndjson")
        self.assertEqual(status, 400)
        self.assertIn("terminated by a newline", answer["error"]["reason"])
        self.assertEqual(len(self.violations()), 1)

    def test_bulk_with_json_content_type_is_rejected(self):
        self.make_index()
        status, _ = self.bulk("/boxoffice-events-v1/_bulk", [("1", EVENT)],
                              ctype="application/json")
        self.assertEqual(status, 400)
        self.assertEqual(len(self.violations()), 1)

    def test_bulk_action_without_source_line_is_rejected(self):
        self.make_index()
        status, _ = self.call("POST", "/boxoffice-events-v1/_bulk",
                              json.dumps({"index": {"_id": "1"}}) + "\n",
                              "application/x-ndjson")
        self.assertEqual(status, 400)
        self.assertEqual(len(self.violations()), 1)

    def test_bulk_unknown_action_and_pretty_printed_lines_are_rejected(self):
        self.make_index()
        status, _ = self.call("POST", "/boxoffice-events-v1/_bulk",
                              '{"upsert":{"_id":"1"}}\n{}\n', "application/x-ndjson")
        self.assertEqual(status, 400)
        status, _ = self.call("POST", "/boxoffice-events-v1/_bulk",
                              '{"index":\n{"_id":"1"}}\n{}\n', "application/x-ndjson")
        self.assertEqual(status, 400)
        self.assertEqual(len(self.violations()), 2)

    def test_bulk_into_missing_index_is_a_violation(self):
        status, body = self.bulk("/nope/_bulk", [("1", EVENT)])
        self.assertEqual(status, 200)
        self.assertEqual(body["items"][0]["index"]["status"], 404)
        self.assertEqual(len(self.violations()), 1)

    def test_strict_mapping_rejects_unknown_field_per_item(self):
        self.make_index()
        doc = dict(EVENT, surprise=1)
        status, body = self.bulk("/boxoffice-events-v1/_bulk", [("1", doc), ("2", EVENT)])
        self.assertEqual(status, 200)
        self.assertTrue(body["errors"])
        self.assertEqual(body["items"][0]["index"]["error"]["type"],
                         "strict_dynamic_mapping_exception")
        self.assertEqual(body["items"][1]["index"]["status"], 201)

    def test_unknown_query_parameter_is_rejected(self):
        self.make_index()
        status, _ = self.call("POST", "/boxoffice-events-v1/_bulk?refresh=yes",
                              '{"index":{"_id":"1"}}\n{}\n', "application/x-ndjson")
        self.assertEqual(status, 400)
        status, _ = self.call("POST", "/boxoffice-events-v1/_refresh?bogus=1")
        self.assertEqual(status, 400)
        self.assertEqual(len(self.violations()), 2)

    def test_faults_are_consumed_one_per_request(self):
        self.make_index()
        self.call("POST", "/_fake/faults", [
            {"endpoint": "bulk", "status": 429},
            {"endpoint": "bulk", "status": 503},
            {"endpoint": "bulk", "items": {"1": 429, "2": 400}}])
        status, body = self.bulk("/boxoffice-events-v1/_bulk", [("1", EVENT)])
        self.assertEqual(status, 429)
        self.assertEqual(body["error"]["type"], "es_rejected_execution_exception")
        status, body = self.bulk("/boxoffice-events-v1/_bulk", [("1", EVENT)])
        self.assertEqual(status, 503)
        docs = [("1", EVENT), ("2", EVENT), ("3", EVENT)]
        status, body = self.bulk("/boxoffice-events-v1/_bulk", docs)
        self.assertEqual(status, 200)
        self.assertTrue(body["errors"])
        self.assertEqual([list(i.values())[0]["status"] for i in body["items"]],
                         [429, 400, 201])
        self.assertEqual(body["items"][1]["index"]["error"]["type"],
                         "mapper_parsing_exception")
        status, body = self.bulk("/boxoffice-events-v1/_bulk", docs[:1])
        self.assertFalse(body["errors"])
        self.assertEqual(self.violations(), [])

    # -- settings, refresh, aliases --

    def test_refresh_interval_controls_visibility(self):
        name = self.make_index()
        status, _ = self.call("PUT", "/%s/_settings" % name,
                              {"index": {"refresh_interval": "-1"}})
        self.assertEqual(status, 200)
        self.bulk("/%s/_bulk" % name, [("1", EVENT)])
        state = self.call("GET", "/_fake/state")[1]["indices"][name]
        self.assertEqual((state["docs"], state["visible_docs"]), (1, 0))
        status, body = self.call("POST", "/%s/_refresh" % name)
        self.assertEqual(status, 200)
        self.assertIn("_shards", body)
        state = self.call("GET", "/_fake/state")[1]["indices"][name]
        self.assertEqual(state["visible_docs"], 1)

    def test_bad_refresh_interval_and_static_setting_are_rejected(self):
        name = self.make_index()
        status, _ = self.call("PUT", "/%s/_settings" % name,
                              {"index": {"refresh_interval": "soon"}})
        self.assertEqual(status, 400)
        status, _ = self.call("PUT", "/%s/_settings" % name,
                              {"index": {"number_of_shards": 3}})
        self.assertEqual(status, 400)

    def test_alias_swap_and_lookup(self):
        self.make_index("boxoffice-events-v1")
        self.make_index("boxoffice-events-v2")
        status, body = self.call("GET", "/_alias/boxoffice-events")
        self.assertEqual(status, 404)
        self.assertEqual(body, {"error": "alias [boxoffice-events] missing", "status": 404})
        self.call("POST", "/_aliases", {"actions": [
            {"add": {"index": "boxoffice-events-v1", "alias": "boxoffice-events"}}]})
        status, body = self.call("POST", "/_aliases", {"actions": [
            {"remove": {"index": "boxoffice-events-v1", "alias": "boxoffice-events"}},
            {"add": {"index": "boxoffice-events-v2", "alias": "boxoffice-events"}}]})
        self.assertEqual((status, body), (200, {"acknowledged": True}))
        status, body = self.call("GET", "/_alias/boxoffice-events")
        self.assertEqual(body, {"boxoffice-events-v2": {"aliases": {"boxoffice-events": {}}}})
        self.assertEqual(self.violations(), [])

    def test_malformed_alias_actions_are_rejected(self):
        self.make_index()
        for body in ({"actions": []},
                     {"actions": [{"swap": {"index": "boxoffice-events-v1", "alias": "a"}}]},
                     {"actions": [{"add": {"index": "boxoffice-events-v1"}}]},
                     {"actions": [{"add": {"index": "boxoffice-events-v1", "alias": "a",
                                           "colour": "red"}}]},
                     {"action": [{"add": {"index": "boxoffice-events-v1", "alias": "a"}}]}):
            status, _ = self.call("POST", "/_aliases", body)
            self.assertEqual(status, 400, body)
        self.assertEqual(len(self.violations()), 5)

    def test_delete_through_an_alias_is_refused(self):
        self.make_index()
        self.call("POST", "/_aliases", {"actions": [
            {"add": {"index": "boxoffice-events-v1", "alias": "boxoffice-events"}}]})
        status, _ = self.call("DELETE", "/boxoffice-events")
        self.assertEqual(status, 400)
        status, body = self.call("DELETE", "/boxoffice-events-v1")
        self.assertEqual((status, body), (200, {"acknowledged": True}))
        status, body = self.call("DELETE", "/boxoffice-events-v1")
        self.assertEqual(status, 404)
        self.assertEqual(body["error"]["type"], "index_not_found_exception")

    # -- _search --

    def test_search_shape_filters_and_aggregations(self):
        name = self.make_index()
        other = dict(EVENT, id="2", city="Chennai", category="comedy", title="Stand-up")
        self.bulk("/%s/_bulk" % name, [("1", EVENT), ("2", other)])
        self.call("POST", "/_aliases", {"actions": [
            {"add": {"index": name, "alias": "boxoffice-events"}}]})
        query = {"query": {"bool": {"must": [{"match_all": {}}],
                                    "filter": [{"term": {"category.keyword": "comedy"}}]}},
                 "from": 0, "size": 10, "track_total_hits": True,
                 "aggs": {"city": {"terms": {"field": "city.keyword", "size": 20}}}}
        status, body = self.call("POST", "/boxoffice-events/_search", query)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["hits"]["total"], {"value": 1, "relation": "eq"})
        self.assertEqual(body["hits"]["hits"][0]["_id"], "2")
        self.assertEqual(body["hits"]["hits"][0]["_index"], name)
        self.assertEqual(body["aggregations"]["city"]["buckets"],
                         [{"key": "Chennai", "doc_count": 1}])
        status, body = self.call("POST", "/boxoffice-events/_search",
                                 {"query": {"multi_match": {"query": "coldplay",
                                                            "fields": ["title^3"],
                                                            "fuzziness": "AUTO"}}})
        self.assertEqual(body["hits"]["total"]["value"], 1)
        self.assertEqual(self.violations(), [])

    def test_search_rejects_what_es_rejects(self):
        name = self.make_index()
        bad = [
            {"query": {"fuzzy_magic": {}}},
            {"query": {"multi_match": {"query": "x", "type": "cross_fields",
                                       "fuzziness": "AUTO"}}},
            {"query": {"multi_match": {"query": "x", "type": "typo"}}},
            {"from": 9995, "size": 10},
            {"aggs": {"city": {"terms": {"field": "city"}}}},
            {"sort": [{"title": "asc"}]},
            {"sort": [{"nothing_here": "asc"}]},
            {"colour": "red"},
        ]
        for body in bad:
            status, answer = self.call("POST", "/%s/_search" % name, body)
            self.assertEqual(status, 400, body)
            self.assertIn("root_cause", answer["error"])
        self.assertEqual(len(self.violations()), len(bad))

    def test_unmapped_type_makes_sorting_on_a_missing_field_legal(self):
        name = self.make_index()
        status, _ = self.call("POST", "/%s/_search" % name, {
            "sort": [{"number": {"order": "asc", "unmapped_type": "keyword"}}]})
        self.assertEqual(status, 200)

    def test_search_of_missing_index_is_404(self):
        status, body = self.call("POST", "/nope/_search", {"query": {"match_all": {}}})
        self.assertEqual(status, 404)
        self.assertEqual(body["error"]["type"], "index_not_found_exception")

    def test_unknown_endpoint_is_a_violation(self):
        status, _ = self.call("POST", "/_bulkk", "x\n", "application/x-ndjson")
        self.assertEqual(status, 400)
        status, _ = self.call("GET", "/_aliases/x")
        self.assertEqual(status, 400)
        self.assertEqual(len(self.violations()), 2)


if __name__ == "__main__":
    unittest.main()
