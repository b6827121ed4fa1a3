"""test_search_hits.py: the hits of the PostgreSQL backend come from the
text stored with each document (search_documents.hit_tail, migration 023),
against real PostgreSQL: whatever is put or replaced, the stored hit is the
document's hit (search_hit), and the hits that text search, typo search,
browsing and suggestions answer are the documents as last put, with their
score. Uses a database of its own (a copy of the migrated test database).
Needs BOXOFFICE_TEST_DATABASE_URL."""

import json
import unittest

from pgtest import ScratchDatabaseTest


def event(i, title, seats, city="Mumbai"):
    return {"type": "event", "id": str(i), "title": title, "performer": "Quillon Vesk",
            "category": "concert", "venue": "Hall \"Ü\" %d" % i, "city": city,
            "location": {"lat": 19.07, "lon": 72.87}, "starts_at": "2099-01-0%dT19:30:00Z" % i,
            "price_min": 50000, "price_max": 90000, "currency": "INR", "seats_available": seats}


TRAIN = {"type": "train", "id": "90077", "number": "90077", "name": "Quillon Mail",
         "run_days": ["mon", "thu"], "classes": ["SL", "3A"],
         "stops": [{"code": "BCT", "name": "Mumbai Central", "index": 0},
                   {"code": "ST", "name": "Surat", "index": 1},
                   {"code": "NDLS", "name": "New Delhi", "index": 2}],
         "station_codes": ["BCT", "ST", "NDLS"]}
TRAIN_HIT = {"type": "train", "id": "90077", "title": "Quillon Mail", "number": "90077",
             "name": "Quillon Mail", "run_days": ["mon", "thu"], "classes": ["SL", "3A"],
             "from": {"code": "BCT", "name": "Mumbai Central"},
             "to": {"code": "NDLS", "name": "New Delhi"}}


class SearchHitsTest(ScratchDatabaseTest):
    SCRATCH_PREFIX = "search_hits"

    @classmethod
    def prepare(cls):
        cls.cur.execute("DELETE FROM search_documents")

    def put(self, docs):
        self.cur.execute("SELECT search_documents_put(%s::jsonb)", (json.dumps(docs),))

    def search(self, q, types=None, city=None):
        self.cur.execute("SELECT search_json(%s, %s::text[], %s, NULL, NULL, NULL, false, 20, 0)",
                         (q, types, city))
        return json.loads(self.cur.fetchone()[0])

    def hits_without_score(self, answer):
        for hit in answer["hits"]:
            self.assertIsInstance(hit.pop("score"), (int, float))
        return answer["hits"]

    def assert_stored_hits_are_rendered_hits(self):
        self.cur.execute("SELECT count(*), count(*) FILTER (WHERE '{' || hit_tail = "
                         "search_hit(doc_type, doc)::text) FROM search_documents")
        total, same = self.cur.fetchone()
        self.assertGreater(total, 0)
        self.assertEqual(same, total)

    def test_hits_are_the_documents_as_last_put(self):
        first = [event(1, "Quillon Vesk Live", 10), event(2, "Quillon Vesk Encore", 4)]
        self.put(first + [TRAIN])
        self.assert_stored_hits_are_rendered_hits()
        self.assertEqual(self.hits_without_score(self.search("quillon", ["event"])), first)
        self.assertEqual(self.hits_without_score(self.search("Quillon Mail", ["train"])),
                         [TRAIN_HIT])

        # replaced: a new title, fewer seats, another city
        second = event(1, "Quillon Vesk Farewell", 3, city="Pune")
        self.put([second])
        self.assert_stored_hits_are_rendered_hits()
        self.assertEqual(self.hits_without_score(self.search("quillon", ["event"])),
                         [second, first[1]])
        # the same hits through typo tolerance, browsing and suggestions
        self.assertEqual(self.hits_without_score(self.search("quillno", ["event"])),
                         [second, first[1]])
        self.assertEqual(self.hits_without_score(self.search(None, ["event"], "Poona")),
                         [second])
        self.cur.execute("SELECT search_suggest_json('quil', 10)::text")
        self.assertEqual(json.loads(self.cur.fetchone()[0])["suggestions"],
                         [{"type": "event", "id": "1", "text": "Quillon Vesk Farewell"},
                          {"type": "event", "id": "2", "text": "Quillon Vesk Encore"},
                          {"type": "train", "id": "90077", "text": "90077 Quillon Mail"}])


if __name__ == "__main__":
    unittest.main(verbosity=2)
