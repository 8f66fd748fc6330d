-- The read-model shapes of issue 19's comparison, for PostGraphile 4:
-- :n indicators over four org units, each with 2 targets, 3 results and
-- 20 history rows (actors from a table of people), indexed as a
-- PostgreSQL user would index them for these queries.
drop schema if exists peer cascade;
create schema peer;
create table peer.person (id text primary key, name text not null);
create table peer.org_unit (id text primary key, name text not null);
create table peer.indicator (
  id uuid primary key,
  org_unit_id text not null references peer.org_unit (id),
  period text not null,
  name text not null,
  unit text not null,
  version int not null
);
create index indicator_org_unit_period on peer.indicator (org_unit_id, period, id);
create table peer.target (
  id bigserial primary key,
  indicator_id uuid not null references peer.indicator (id),
  track text not null,
  kind text not null,
  value numeric not null,
  revisions int not null
);
create index target_indicator on peer.target (indicator_id);
create table peer.actual (
  id bigserial primary key,
  indicator_id uuid not null references peer.indicator (id),
  figure numeric not null,
  status text not null,
  refers_to date not null,
  reported_at timestamptz not null
);
create index actual_indicator_reported on peer.actual (indicator_id, reported_at desc);
create table peer.history_entry (
  position bigint primary key,
  indicator_id uuid not null references peer.indicator (id),
  kind text not null,
  recorded_at timestamptz not null,
  actor_id text not null references peer.person (id),
  before jsonb,
  after jsonb,
  reason text
);
create index history_entry_indicator_position on peer.history_entry (indicator_id, position);

insert into peer.person values ('vp-huyen-uy', 'Văn phòng Huyện ủy'), ('pkt-tieu-can', 'Phòng Kinh tế');
insert into peer.org_unit values
  ('LA.CAN-DUOC', 'Huyện Cần Đước'), ('TV.TIEU-CAN', 'Huyện Tiểu Cần'),
  ('AG.CHO-MOI', 'Huyện Chợ Mới'), ('HG.PHUNG-HIEP', 'Huyện Phụng Hiệp');
insert into peer.indicator
select gen_random_uuid(),
       (array['LA.CAN-DUOC', 'TV.TIEU-CAN', 'AG.CHO-MOI', 'HG.PHUNG-HIEP'])[1 + i % 4],
       '2025', 'Giá trị sản xuất ngành số ' || i, 'tỷ đồng', 20
from generate_series(0, :n - 1) as i;
insert into peer.target (indicator_id, track, kind, value, revisions)
select id, track, 'AT_LEAST', 1000 + r, 7
from peer.indicator, unnest(array['RESOLUTION', 'STRETCH']) with ordinality as t (track, r);
insert into peer.actual (indicator_id, figure, status, refers_to, reported_at)
select id, 1000 + r * 10.5, case when r = 3 then 'FINAL' else 'ESTIMATE' end,
       date '2025-01-01' + (r * 120)::int, timestamptz '2025-04-01' + r * interval '100 days'
from peer.indicator, generate_series(1, 3) as r;
insert into peer.history_entry
select row_number() over (), id,
       case when r = 1 then 'indicator_defined' when r <= 3 then 'target_set'
            when r <= 6 then 'actual_reported' else 'target_revised' end,
       timestamptz '2025-01-01' + r * interval '1 day',
       case when r between 4 and 6 then 'pkt-tieu-can' else 'vp-huyen-uy' end,
       case when r > 6 then jsonb_build_object('value', (1000 + r)::text) end,
       jsonb_build_object('value', (1001 + r)::text),
       case when r > 6 then 'Điều chỉnh' end
from peer.indicator, generate_series(1, 20) as r;
analyze;
