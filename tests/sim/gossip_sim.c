/* gossip_sim.c: the many-node gossip simulator's command line and scenarios.
 *
 * Every scenario starts with a mass join: all nodes boot within --join-spread-ms, each
 * given the first --seeds nodes as seeds, and the run waits until every node counts every
 * node alive (with --warm, the cluster starts converged instead: see sim_warm; that is
 * how 10,000 nodes fit in minutes). Then, after --warmup-s:
 *   join       one more node joins; time until every member sees it
 *   steady     traffic and false positives over --duration-s
 *   crash      --crashes nodes crash one after another; first and last detector of each
 *   partition  the two halves of the nodes (the groups --loss-ab and --loss-ba speak of)
 *              are cut apart for --duration-s (--oneway: only the first half's datagrams
 *              and streams to the second are blocked), then healed; time until every node
 *              again counts every node alive
 *   restart    a node crashes, is declared dead by all, and restarts (--new-addr: at a
 *              new address); time until all see it alive again, above its old incarnation
 *   pause      a node stops for --pause-ms; whether it was declared dead, time until all
 *              see it alive again, and whether anyone else was wrongly declared dead
 *   all        join (with the one more node), then steady, then crash (the benchmark's)
 * Results go to stdout as key=value lines (the same seed gives the same lines); a summary
 * and the wall-clock time go to stderr. Exit status 0 when the scenario ran, 1 on bad
 * usage, 2 when the simulator itself failed. Whether the figures meet a bound is for the
 * caller (tests/sim/run.sh) to judge; the protocol-derived bounds are printed beside them. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net/gossip/gossip.h"
#include "tests/sim/sim.h"

#define MS 1000ull
#define FIRST_PROBE_ROUNDS 5 /* rounds until some member probes a given one: P(none) ~ e^-5 */
#define CRASH_GAP_ROUNDS 3   /* probe intervals between two crashes (plus a random phase) */

struct args {
	const char *scenario;
	uint32_t duration_s, warmup_s, crashes, pause_ms, join_spread_ms, join_timeout_s;
	uint32_t progress_ms;
	bool oneway, new_addr, warm;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: gossip_sim [--nodes N] [--seed S] [--profile fast|lan] [--set key=value]...\n"
		"       [--loss P] [--loss-ab P] [--loss-ba P] [--latency-ms L] [--jitter-ms J]\n"
		"       [--scenario join|steady|crash|partition|restart|pause|all] [--duration-s D]\n"
		"       [--warmup-s W] [--crashes K] [--pause-ms P] [--join-spread-ms S]\n"
		"       [--join-timeout-s T] [--seeds K] [--connect-timeout-ms C]\n"
		"       [--stream-timeout-ms T] [--oneway] [--new-addr] [--plain]\n"
		"       [--progress-ms P] [--warm]\n");
}

static int num(const char *s, uint64_t max, uint64_t *v)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || end == s || *end || x > max || s[0] == '-')
		return -EINVAL;
	*v = x;
	return 0;
}

static int prob(const char *s, double *p)
{
	char *end;

	*p = strtod(s, &end);
	return (end == s || *end || !(*p >= 0 && *p <= 1)) ? -EINVAL : 0;
}

/* Protocol-derived figures, from the profile and the cluster size (see gossip.h). */
struct bounds {
	uint64_t susp_min, susp_max, dissem, pushpull, detect, join, heal;
};

static void bounds(const struct gossip_config *c, uint32_t n, uint32_t spread, struct bounds *b)
{
	double lg = n > 1 ? log10((double)n) : 0;
	uint64_t rounds = (uint64_t)ceil(log10((double)n + 1));

	b->susp_min = (uint64_t)(c->suspicion_mult * (lg > 1 ? lg : 1) * c->probe_interval_ms);
	b->susp_max = c->suspicion_max_mult * b->susp_min;
	/* A rumour is sent retransmit_mult x ceil(log10(N + 1)) times, one per gossip round. */
	b->dissem = (uint64_t)c->retransmit_mult * rounds * c->gossip_interval_ms;
	/* Digest anti-entropy costs the same at any size: the interval does not scale. */
	b->pushpull = c->pushpull_interval_ms;
	/* Someone probes the crashed node, the probe round fails, the suspicion runs out at
	 * the latest at its maximum, and the declaration spreads. */
	b->detect = FIRST_PROBE_ROUNDS * c->probe_interval_ms + c->probe_interval_ms + b->susp_max +
		    b->dissem;
	/* Every node has push-pulled with a seed by the end of the spread; what the seeds
	 * did not know yet spreads by gossip, or at the latest by anti-entropy: a first
	 * push-pull at a random point of the interval, the next one interval later. */
	b->join = spread + c->pushpull_interval_ms + b->pushpull + b->dissem;
	/* After a heal, the sides meet again through push-pull and gossip. */
	b->heal = b->pushpull + b->dissem;
}

static double wall(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The fewest members any up node counts alive. */
static uint32_t least_seen(const struct sim *s)
{
	uint32_t i, least = UINT32_MAX;

	for (i = 0; i < s->n; i++)
		if (s->node[i].g && s->node[i].alive_seen < least)
			least = s->node[i].alive_seen;
	return least == UINT32_MAX ? 0 : least;
}

static void kv(const char *k, uint64_t v) { printf("%s=%llu\n", k, (unsigned long long)v); }
static void kvd(const char *k, double v) { printf("%s=%.1f\n", k, v); }

/* A node chosen at random among those up, not one of the seeds (they stay up so late
 * joiners have someone to dial). */
static uint32_t pick(struct sim *s)
{
	uint32_t i, first = s->o.seeds < s->n ? s->o.seeds : 0;

	do {
		i = first + sim_below(s, s->n - first);
	} while (!s->node[i].g);
	return i;
}

static uint64_t rel(uint64_t t, uint64_t from) { return t == UINT64_MAX ? 0 : t - from; }

static void crashes(struct sim *s, const struct args *a, const struct bounds *b)
{
	uint64_t first_min = UINT64_MAX, first_max = 0, last_max = 0, last_sum = 0, susp_min = 0;
	uint32_t k, all = 0;
	bool susp_seen = false;

	for (k = 0; k < a->crashes && s->up > 2; k++) {
		uint32_t t = pick(s);
		uint64_t at, first, last;
		bool done;

		sim_watch(s, t);
		sim_crash(s, t);
		at = s->now;
		done = sim_run_while(s, sim_watch_done, at + 2 * b->detect);
		first = rel(s->w.first_dead, at);
		last = rel(s->w.last_dead, at);
		fprintf(stderr,
			"gossip_sim: crash %u of %s at %.3f s: first suspicion +%lld ms, "
			"dead first +%llu ms, last +%llu ms, %u of %u up nodes%s\n",
			k + 1, s->node[t].name, at / 1e3,
			s->w.first_suspect == UINT64_MAX ? -1
							 : (long long)(s->w.first_suspect - at),
			(unsigned long long)first, (unsigned long long)last, s->w.detected, s->up,
			done ? "" : " (TIMEOUT)");
		if (s->w.first_suspect != UINT64_MAX) {
			uint64_t f = s->w.first_suspect - at;

			susp_min = susp_seen && susp_min < f ? susp_min : f;
			susp_seen = true;
		}
		if (done) {
			all++;
			first_min = first < first_min ? first : first_min;
			first_max = first > first_max ? first : first_max;
			last_max = last > last_max ? last : last_max;
			last_sum += last;
		}
		sim_unwatch(s);
		/* The next crash at another phase of the probe rounds. */
		sim_run_until(s, s->now + CRASH_GAP_ROUNDS * s->o.gc.probe_interval_ms +
					 sim_below(s, s->o.gc.probe_interval_ms));
	}
	kv("crashes", k);
	kv("crashes_detected_by_all", all);
	kv("detect_first_ms", first_min == UINT64_MAX ? 0 : first_min);
	kv("detect_first_max_ms", first_max);
	kv("detect_last_ms", last_max);
	kv("detect_last_mean_ms", all ? last_sum / all : 0);
	if (susp_seen)
		kv("suspect_first_ms", susp_min);
	kv("detect_bound_ms", b->detect);
}

static void load(struct sim *s, uint32_t window_s, uint64_t pushpull_ms)
{
	uint64_t up = 0, pk = 0, by = 0, fr = 0, fb = 0, max = 0;
	double secs, pp = (double)pushpull_ms / 1e3;
	uint32_t i;

	sim_window(s);
	sim_run_until(s, s->now + window_s * MS);
	secs = (double)(s->now - s->win_start) / 1e3;
	for (i = 0; i < s->n; i++) {
		struct sim_node *n = &s->node[i];

		if (!n->g)
			continue;
		up++;
		pk += n->udp_pkts;
		by += n->udp_bytes;
		fr += n->frames;
		fb += n->frame_bytes;
		max = n->udp_bytes > max ? n->udp_bytes : max;
	}
	if (!up || secs <= 0)
		return;
	kv("window_s", window_s);
	kvd("udp_bytes_per_node_s", by / secs / up);
	kvd("udp_pkts_per_node_s", pk / secs / up);
	kvd("udp_bytes_per_node_s_max", max / secs);
	kvd("stream_bytes_per_node_s", fb / secs / up);
	kvd("stream_frames_per_node_s", fr / secs / up);
	kvd("bytes_per_node_s", (by + fb) / secs / up);
	/* Push-pull comes once per interval: a window shorter than that catches
	 * too many or too few. Each node sends about two frames per interval (its own
	 * request and one reply), so this is the long-run figure. */
	if (fr && pp > 0)
		kvd("stream_bytes_per_node_s_model", 2.0 * ((double)fb / fr) / pp);
	fprintf(stderr,
		"gossip_sim: load over %u s: %.1f B/s and %.2f datagrams/s per node (max %.1f "
		"B/s), streams %.1f B/s per node\n",
		window_s, by / secs / up, pk / secs / up, max / secs, fb / secs / up);
}

static void join_one(struct sim *s, const struct bounds *b)
{
	uint64_t at;
	bool ok;

	if (sim_add(s, s->now, s->n) < 0)
		return;
	at = s->now;
	ok = sim_run_while(s, sim_converged, at + b->join);
	kv("join1_ok", ok);
	kv("join1_ms", s->now - at);
	fprintf(stderr, "gossip_sim: one more node seen by all %s after %llu ms\n", ok ? "" : "NOT",
		(unsigned long long)(s->now - at));
}

static void partition(struct sim *s, const struct args *a, const struct bounds *b)
{
	uint32_t i;
	uint64_t heal;
	bool ok;

	/* Nodes declared dead by the other side of the cut are right to be. */
	for (i = 0; i < s->n; i++)
		sim_excuse_across(s, i, s->now + a->duration_s * MS + b->heal + b->detect);
	sim_block(s, 0, 1, true);
	if (!a->oneway)
		sim_block(s, 1, 0, true);
	sim_run_until(s, s->now + a->duration_s * MS);
	kv("partition_s", a->duration_s);
	kv("partition_dead_declared", s->c.dead_excused);
	sim_block(s, 0, 1, false);
	sim_block(s, 1, 0, false);
	heal = s->now;
	ok = sim_run_while(s, sim_converged, heal + b->heal);
	kv("heal_ok", ok);
	kv("heal_ms", s->now - heal);
	kv("heal_bound_ms", b->heal);
	fprintf(stderr,
		"gossip_sim: partition of %u s (%llu dead declarations across it), healed: "
		"%s after %llu ms\n",
		a->duration_s, (unsigned long long)s->c.dead_excused,
		ok ? "re-converged" : "NOT re-converged", (unsigned long long)(s->now - heal));
}

/* After a restart or a pause: how many up nodes see node t alive above incarnation inc. */
static uint32_t seen_alive(struct sim *s, uint32_t t, int64_t inc)
{
	uint32_t i, n = 0, v;
	enum gossip_state st;

	for (i = 0; i < s->n; i++)
		if (i != t && s->node[i].g && sim_view(s, i, t, &st, &v) && st == GOSSIP_ALIVE &&
		    (int64_t)v > inc)
			n++;
	return n;
}

static void restart(struct sim *s, const struct args *a, const struct bounds *b)
{
	uint32_t t = pick(s), seen;
	uint64_t at;
	bool ok;
	int64_t old;

	sim_watch(s, t);
	sim_crash(s, t);
	old = s->node[t].prev_inc;
	ok = sim_run_while(s, sim_watch_done, s->now + 2 * b->detect);
	kv("restart_detected", ok);
	sim_unwatch(s);
	if (sim_restart(s, t, a->new_addr) < 0) {
		fprintf(stderr, "gossip_sim: restart failed\n");
		exit(2);
	}
	at = s->now;
	ok = sim_run_while(s, sim_converged, at + b->join);
	seen = seen_alive(s, t, old);
	kv("restart_ms", s->now - at);
	kv("restart_old_incarnation", (uint64_t)old);
	kv("restart_incarnation", sim_incarnation(s, t));
	kv("restart_seen_by", seen);
	kv("restart_ok", ok && seen == s->up - 1);
	fprintf(stderr,
		"gossip_sim: %s restarted%s: seen alive above incarnation %lld by %u of %u "
		"after %llu ms (its incarnation now %u)\n",
		s->node[t].name, a->new_addr ? " at a new address" : "", (long long)old, seen,
		s->up - 1, (unsigned long long)(s->now - at), sim_incarnation(s, t));
}

static void pause_one(struct sim *s, const struct args *a, const struct bounds *b)
{
	uint32_t t = pick(s);
	uint64_t dead = s->c.dead_excused, susp = s->c.suspect_live, resume;
	bool ok;

	sim_pause(s, t, a->pause_ms, b->detect);
	sim_run_until(s, s->now + a->pause_ms);
	resume = s->now;
	/* Let the backlog and the late timers play out, then wait for agreement. */
	sim_run_until(s, resume + a->pause_ms + b->dissem);
	ok = sim_run_while(s, sim_converged, resume + b->join);
	kv("pause_ms", a->pause_ms);
	kv("pause_suspect_events", s->c.suspect_live - susp);
	kv("pause_dead_declared", s->c.dead_excused - dead);
	kv("pause_recover_ok", ok);
	kv("pause_recover_ms", s->conv_at > resume ? s->conv_at - resume : 0);
	kv("pause_incarnation", sim_incarnation(s, t));
	fprintf(stderr,
		"gossip_sim: %s paused %u ms: declared dead %llu times; all see all again %llu ms "
		"after it resumed%s\n",
		s->node[t].name, a->pause_ms, (unsigned long long)(s->c.dead_excused - dead),
		(unsigned long long)(s->conv_at > resume ? s->conv_at - resume : 0),
		ok ? "" : " (NOT re-converged)");
}

static void totals(struct sim *s)
{
	struct gossip_stats t;
	uint32_t i;

	memset(&t, 0, sizeof t);
	for (i = 0; i < s->n; i++) {
		const struct gossip_stats *g;

		if (!s->node[i].g)
			continue;
		g = gossip_stats(s->node[i].g);
		t.suspicions += g->suspicions;
		t.refutations += g->refutations;
		t.declared_dead += g->declared_dead;
		t.drop_auth += g->drop_auth;
		t.drop_version += g->drop_version;
		t.drop_malformed += g->drop_malformed;
		t.drop_plaintext += g->drop_plaintext;
		t.broadcasts_dropped += g->broadcasts_dropped;
		t.probe_failed += g->probe_failed;
	}
	kv("false_positives", s->c.false_pos);
	kv("dead_excused", s->c.dead_excused);
	kv("suspect_events", s->c.suspect_live);
	kv("suspicions", t.suspicions);
	kv("refutations", t.refutations);
	kv("probes_failed", t.probe_failed);
	kv("declared_dead", t.declared_dead);
	kv("drop_auth", t.drop_auth);
	kv("drop_version", t.drop_version);
	kv("drop_malformed", t.drop_malformed);
	kv("drop_plaintext", t.drop_plaintext);
	kv("broadcasts_dropped", t.broadcasts_dropped);
	kv("streams", s->c.streams);
	kv("streams_failed", s->c.streams_failed);
	kv("bad_frames", s->c.bad_frames);
	kv("late_deadlines", s->c.late_deadline);
	kv("udp_lost", s->c.udp_lost);
	kv("events", s->c.events);
	kv("sim_ms", s->now);
}

int main(int argc, char **argv)
{
	struct sim_opts o = {.nodes = 100,
			     .seed = 1,
			     .latency_ms = 1,
			     .jitter_ms = 1,
			     .connect_timeout_ms = 1000,
			     .stream_timeout_ms = 10000,
			     .seeds = 3};
	struct args a = {.scenario = "crash",
			 .duration_s = 60,
			 .warmup_s = 10,
			 .crashes = 1,
			 .join_spread_ms = 1000};
	enum gossip_profile prof = GOSSIP_PROFILE_FAST;
	const char *pname = "fast";
	char *sets[32];
	unsigned nsets = 0, k;
	double loss = 0, ab = -1, ba = -1;
	uint64_t v;
	struct timespec t0;
	struct bounds b;
	struct sim s;
	bool ok;
	int i;

	for (i = 1; i < argc; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		int bad = 0;

		if (!strcmp(opt, "--plain")) {
			o.plain = true;
			continue;
		}
		if (!strcmp(opt, "--oneway")) {
			a.oneway = true;
			continue;
		}
		if (!strcmp(opt, "--new-addr")) {
			a.new_addr = true;
			continue;
		}
		if (!strcmp(opt, "--warm")) {
			a.warm = true;
			continue;
		}
		if (!val) {
			usage();
			return 1;
		}
		i++;
		if (!strcmp(opt, "--nodes"))
			bad = num(val, 1000000, &v) || v < 1 || (o.nodes = (uint32_t)v, 0);
		else if (!strcmp(opt, "--seed"))
			bad = num(val, UINT64_MAX, &o.seed);
		else if (!strcmp(opt, "--profile"))
			bad = gossip_profile_parse(val, &prof) || (pname = val, 0);
		else if (!strcmp(opt, "--set"))
			bad = nsets == 32 || (sets[nsets++] = argv[i], 0);
		else if (!strcmp(opt, "--loss"))
			bad = prob(val, &loss);
		else if (!strcmp(opt, "--loss-ab"))
			bad = prob(val, &ab);
		else if (!strcmp(opt, "--loss-ba"))
			bad = prob(val, &ba);
		else if (!strcmp(opt, "--latency-ms"))
			bad = num(val, 60000, &v) || (o.latency_ms = (uint32_t)v, 0);
		else if (!strcmp(opt, "--jitter-ms"))
			bad = num(val, 60000, &v) || (o.jitter_ms = (uint32_t)v, 0);
		else if (!strcmp(opt, "--scenario"))
			a.scenario = val;
		else if (!strcmp(opt, "--duration-s"))
			bad = num(val, 86400, &v) || (a.duration_s = (uint32_t)v, 0);
		else if (!strcmp(opt, "--warmup-s"))
			bad = num(val, 86400, &v) || (a.warmup_s = (uint32_t)v, 0);
		else if (!strcmp(opt, "--crashes"))
			bad = num(val, 1000, &v) || (a.crashes = (uint32_t)v, 0);
		else if (!strcmp(opt, "--pause-ms"))
			bad = num(val, 86400000, &v) || (a.pause_ms = (uint32_t)v, 0);
		else if (!strcmp(opt, "--join-spread-ms"))
			bad = num(val, 86400000, &v) || (a.join_spread_ms = (uint32_t)v, 0);
		else if (!strcmp(opt, "--join-timeout-s"))
			bad = num(val, 86400, &v) || (a.join_timeout_s = (uint32_t)v, 0);
		else if (!strcmp(opt, "--progress-ms"))
			bad = num(val, 86400000, &v) || (a.progress_ms = (uint32_t)v, 0);
		else if (!strcmp(opt, "--seeds"))
			bad = num(val, 8, &v) || v < 1 || (o.seeds = (uint32_t)v, 0);
		else if (!strcmp(opt, "--connect-timeout-ms"))
			bad = num(val, 600000, &v) || (o.connect_timeout_ms = (uint32_t)v, 0);
		else if (!strcmp(opt, "--stream-timeout-ms"))
			bad = num(val, 600000, &v) || (o.stream_timeout_ms = (uint32_t)v, 0);
		else
			bad = 1;
		if (bad) {
			fprintf(stderr, "gossip_sim: bad option %s %s\n", opt, val);
			usage();
			return 1;
		}
	}
	if (strcmp(a.scenario, "join") && strcmp(a.scenario, "steady") &&
	    strcmp(a.scenario, "crash") && strcmp(a.scenario, "partition") &&
	    strcmp(a.scenario, "restart") && strcmp(a.scenario, "pause") &&
	    strcmp(a.scenario, "all")) {
		fprintf(stderr, "gossip_sim: unknown scenario %s\n", a.scenario);
		usage();
		return 1;
	}
	gossip_profile(&o.gc, prof);
	for (k = 0; k < nsets; k++) {
		char key[64], *eq = strchr(sets[k], '=');

		if (!eq || (size_t)(eq - sets[k]) >= sizeof key) {
			fprintf(stderr, "gossip_sim: --set wants key=value, not %s\n", sets[k]);
			return 1;
		}
		memcpy(key, sets[k], (size_t)(eq - sets[k]));
		key[eq - sets[k]] = 0;
		if (gossip_config_set(&o.gc, key, eq + 1) < 0) {
			fprintf(stderr, "gossip_sim: --set %s: unknown key or bad value\n",
				sets[k]);
			return 1;
		}
	}
	for (k = 0; k < SIM_GROUPS * SIM_GROUPS; k++)
		o.loss[k / SIM_GROUPS][k % SIM_GROUPS] = loss;
	if (ab >= 0)
		o.loss[0][1] = ab;
	if (ba >= 0)
		o.loss[1][0] = ba;
	if (!a.pause_ms)
		a.pause_ms = 2 * o.gc.probe_interval_ms;
	o.spare = 1;
	bounds(&o.gc, o.nodes, a.join_spread_ms, &b);
	if (a.join_timeout_s)
		b.join = a.join_timeout_s * MS;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (sim_init(&s, &o) < 0) {
		fprintf(stderr, "gossip_sim: out of memory\n");
		return 2;
	}
	printf("nodes=%u\nseed=%llu\nprofile=%s\nscenario=%s\n", o.nodes,
	       (unsigned long long)o.seed, pname, a.scenario);
	printf("loss=%g\nlatency_ms=%u\njitter_ms=%u\nsealed=%d\n", loss, o.latency_ms, o.jitter_ms,
	       !o.plain);
	kv("suspicion_min_ms", b.susp_min);
	kv("suspicion_max_ms", b.susp_max);
	kv("dissemination_ms", b.dissem);
	kv("pushpull_ms", b.pushpull);

	if (a.warm) {
		int rc = sim_warm(&s);

		if (rc < 0) {
			fprintf(stderr, "gossip_sim: warm start failed (%d)\n", rc);
			return 2;
		}
		kv("warm_start", 1);
		fprintf(stderr,
			"gossip_sim: %u nodes started converged (warm) in %.1f s wall: %s\n",
			o.nodes, wall(&t0), sim_converged(&s) ? "all see all" : "NOT converged");
	}
	for (k = s.n; k < o.nodes; k++)
		if (sim_add(&s, a.join_spread_ms ? sim_below(&s, a.join_spread_ms) : 0, o.seeds) <
		    0) {
			fprintf(stderr, "gossip_sim: out of memory\n");
			return 2;
		}
	if (a.progress_ms) {
		/* Watch the join: how many nodes see everyone, and the poorest view. */
		uint64_t t;

		for (t = a.progress_ms; t < b.join && !sim_converged(&s); t += a.progress_ms) {
			uint32_t j, least = UINT32_MAX, who = 0;

			sim_run_while(&s, sim_converged, t);
			for (j = 0; j < s.n; j++)
				if (s.node[j].g && s.node[j].alive_seen < least) {
					least = s.node[j].alive_seen;
					who = j;
				}
			fprintf(stderr,
				"gossip_sim: %7.1f s: %u of %u see all; least sees %u (%s, %zu "
				"members known)\n",
				s.now / 1e3, s.n_full, s.up, least, s.node[who].name,
				gossip_member_count(s.node[who].g));
		}
	}
	ok = sim_run_while(&s, sim_converged, b.join);
	kv("join_ok", ok);
	kv("join_ms", s.now);
	kv("join_bound_ms", b.join);
	kv("join_nodes_seeing_all", s.n_full);
	kv("join_least_seen", least_seen(&s));
	fprintf(stderr, "gossip_sim: %u nodes, %s profile, %s: %s after %.3f s\n", o.nodes, pname,
		a.scenario, ok ? "all see all" : "NOT converged", s.now / 1e3);
	sim_run_until(&s, s.now + a.warmup_s * MS);

	if (!strcmp(a.scenario, "join")) {
		join_one(&s, &b);
	} else if (!strcmp(a.scenario, "steady")) {
		load(&s, a.duration_s, b.pushpull);
	} else if (!strcmp(a.scenario, "crash")) {
		crashes(&s, &a, &b);
	} else if (!strcmp(a.scenario, "partition")) {
		partition(&s, &a, &b);
	} else if (!strcmp(a.scenario, "restart")) {
		restart(&s, &a, &b);
	} else if (!strcmp(a.scenario, "pause")) {
		pause_one(&s, &a, &b);
	} else {
		join_one(&s, &b);
		load(&s, a.duration_s, b.pushpull);
		crashes(&s, &a, &b);
	}
	totals(&s);
	fprintf(stderr,
		"gossip_sim: %llu events, %.1f simulated s in %.1f s wall; %llu false positives, "
		"%llu suspicions of live nodes seen\n",
		(unsigned long long)s.c.events, s.now / 1e3, wall(&t0),
		(unsigned long long)s.c.false_pos, (unsigned long long)s.c.suspect_live);
	sim_free(&s);
	return 0;
}
