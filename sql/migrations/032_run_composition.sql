-- 032_run_composition: a run's composition may differ from its train's (a
-- coach added for a rush, one taken off): per run and class, the number of
-- coaches and the berth counts per quota derived from it by the same rule
-- as the train's (train_berth_quota). No row: the run has its train's
-- composition (train_classes). Coaches are named and numbered as the
-- train's are: the class's prefix and 1..coaches.

CREATE TABLE train_run_classes (
    run_id     bigint NOT NULL REFERENCES train_runs ON DELETE CASCADE,
    class      text NOT NULL REFERENCES train_class_types,
    coaches    integer NOT NULL CHECK (coaches BETWEEN 1 AND 24),
    gn_berths  integer NOT NULL CHECK (gn_berths >= 0),
    tq_berths  integer NOT NULL CHECK (tq_berths >= 0),
    ld_berths  integer NOT NULL CHECK (ld_berths >= 0),
    rac_berths integer NOT NULL CHECK (rac_berths >= 0),
    wl_cap     integer NOT NULL CHECK (wl_cap >= 0),
    PRIMARY KEY (run_id, class)
);
