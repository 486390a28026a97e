/* agent.c: this node's part of the cluster scheduler: the sans-IO core (sched/cluster) on
 * a kernel thread, fed by gossip and carried out with tasks.
 *
 * Threads and locks.
 * - The agent thread owns the loop: it sleeps on `wake` until the core's next deadline
 *   (at most AGENT_TICK_MS), then feeds the core what the queue holds, resyncs the
 *   membership when gossip reported a change, looks at the tasks it started, ticks the
 *   core and carries out its effects.
 * - `core_lock` is around every call into the core: the agent thread's, and the
 *   console's between agent_lock and agent_unlock. Nobody calls a members_ function or
 *   does I/O while holding it: effects are copied out of the core, the lock dropped, and
 *   only then sent or started.
 * - Gossip's callbacks run on the gossip thread under gossip's own lock, so they must not
 *   wait for core_lock (the agent thread may be blocked in members_app_broadcast,
 *   waiting for gossip's lock): `in` copies the message onto the queue (`qlock`), `event`
 *   only raises a flag, and `state` copies the table that the agent thread encodes every
 *   STATE_REFRESH_MS (`state_lock`). Both locks are leaves.
 * - Blobs a START needs and this node lacks are fetched by the fetch thread (a fetch may
 *   take seconds); it queues the outcome back to the agent thread, which starts the task
 *   or reports the failure.
 * - `runs` maps instances started here to their tasks (`runs_lock`, a leaf), for exits,
 *   kills and output; an ended one stays while the task layer keeps the task (task.keep=).
 * The peer service (agent_peer.c) serves blobs and output to other nodes. */
#include <errno.h>
#include <string.h>

#include "kernel/heap.h"
#include "kernel/log.h"
#include "kernel/printf.h"
#include "kernel/random.h"
#include "kernel/sync.h"
#include "kernel/task.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "net/members.h"
#include "sched/agent_internal.h"

#define NS_PER_MS 1000000ULL
#define START_WAIT_MS 100 /* polling for membership to run */
#define START_GIVE_UP_MS (MEMBERS_NET_WAIT_MS + 30000)
#define STATE_REFRESH_MS 250 /* the push-pull copy of the table is this fresh */
#define SYNC_MS 2000	     /* membership is resynced at least this often */
#define QUEUE_MAX 2048	     /* gossip inputs waiting; beyond, dropped (anti-entropy repairs) */
#define MEMBERS_MAX 4096     /* members the agent keeps track of */
#define RUNS_ENDED_MAX 512   /* ended instances remembered for their output */
#define FETCH_QUEUE 64	     /* STARTs waiting for a blob */
#define LOGGED_JOBS 16	     /* recently logged submissions (no line twice) */
#define MIN_WAIT_MS 2	     /* the loop never spins faster than this on timers */
#define FIRST_WATCH_MS 60000 /* a job's first run is looked for this long */
#define DRAIN_ROUNDS 4	     /* rounds of effects that reports caused, drained at once */

struct agent_stats agent_counters;

uint64_t agent_now_ms(void) { return time_ns() / NS_PER_MS; }

/* What arrives for the agent thread: gossip data, and fetches done. */
enum input_kind { IN_MSG, IN_STATE, IN_FETCHED };
struct start {
	struct cluster_inst inst;
	struct cluster_job job;
	int fetch_rc;
};
struct input {
	struct input *next;
	enum input_kind kind;
	struct start *start; /* IN_FETCHED */
	size_t len;
	uint8_t data[];
};

/* An instance started here. */
enum run_state { RUN_FETCHING, RUN_RUNNING, RUN_ENDED };
struct run {
	struct run *next;
	char name[AGENT_INST_NAME_MAX + 1]; /* canonical: JOBID.SLOT#ATTEMPT */
	struct cluster_inst inst;
	enum run_state st;
	int task;
	bool killed;
};

struct known {
	char name[GOSSIP_NAME_MAX + 1];
	char tags[GOSSIP_TAGS_MAX + 1];
	uint16_t cpus;
	uint32_t mem;
};

/* An effect copied out of the core. */
struct eff {
	enum cluster_effect_kind kind;
	uint64_t key;
	char node[CLUSTER_NAME_MAX + 1];
	struct start *start; /* START; KILL uses start->inst */
	size_t len;
	uint8_t *data;
};

static struct mutex core_lock, qlock, state_lock, runs_lock;
static struct sem wake;
static struct mbox fetches;
static struct cluster *core;
static volatile bool running, members_dirty;
static bool reported; /* the agent thread reported to the core: effects to drain now */
static char self[GOSSIP_NAME_MAX + 1];
static struct input *qhead, *qtail;
static size_t qlen;
static uint8_t *state_buf;
static size_t state_len;
static struct run *runs;
static struct known *known;
static size_t nknown;
static char logged[LOGGED_JOBS][CLUSTER_JOB_ID_LEN + 1];
static unsigned logged_next;
static size_t jobs_seen; /* the job count at the last look for submissions */
/* Jobs submitted here whose first instance has not been seen running yet. */
static struct first {
	char id[CLUSTER_JOB_ID_LEN + 1];
	uint64_t submitted_ms;
} firsts[LOGGED_JOBS];
static struct cluster_job scratch; /* the agent thread's */

static void inst_name(const struct cluster_inst *i, char out[AGENT_INST_NAME_MAX + 1])
{
	ksnprintf(out, AGENT_INST_NAME_MAX + 1, "%s.%u#%u", i->job, i->slot, i->attempt);
}

/* ---- gossip's callbacks (gossip thread, gossip's lock held: leaves only) ---- */

static void enqueue(struct input *in)
{
	mutex_lock(&qlock);
	if (qlen >= QUEUE_MAX) {
		mutex_unlock(&qlock);
		kfree(in->start);
		kfree(in);
		return;
	}
	if (qtail)
		qtail->next = in;
	else
		qhead = in;
	qtail = in;
	qlen++;
	mutex_unlock(&qlock);
	sem_signal(&wake);
}

static void app_in(void *ctx, const struct gossip_app_in *in)
{
	(void)ctx;
	struct input *i = kmalloc(sizeof *i + in->len);
	if (!i)
		return;
	i->next = NULL;
	i->kind = in->kind == GOSSIP_APP_STATE ? IN_STATE : IN_MSG;
	i->start = NULL;
	i->len = in->len;
	memcpy(i->data, in->data, in->len);
	enqueue(i);
}

static uint8_t *app_state(void *ctx, size_t *len)
{
	(void)ctx;
	uint8_t *copy = NULL;
	mutex_lock(&state_lock);
	if (state_buf && (copy = kmalloc(state_len)) != NULL) {
		memcpy(copy, state_buf, state_len);
		*len = state_len;
	}
	mutex_unlock(&state_lock);
	return copy;
}

static void app_event(void *ctx, const struct gossip_event *ev)
{
	(void)ctx;
	(void)ev;
	members_dirty = true;
	sem_signal(&wake);
}

/* ---- membership ---- */

static struct known *find_known(const char *name)
{
	for (size_t i = 0; i < nknown; i++)
		if (!strcmp(known[i].name, name))
			return &known[i];
	return NULL;
}

/* Bring the core's view of the members in line with gossip's: alive (or suspect) ones up
 * when new or changed, the rest down. */
static void sync_members(void)
{
	struct members_entry *m = kmalloc(MEMBERS_MAX * sizeof *m);
	if (!m)
		return;
	members_dirty = false;
	int n = members_snapshot(m, MEMBERS_MAX);
	if (n <= 0) { /* membership stopped (leaving): keep the last view */
		kfree(m);
		return;
	}
	if (n > MEMBERS_MAX)
		n = MEMBERS_MAX;
	uint64_t now = agent_now_ms();
	mutex_lock(&core_lock);
	for (int i = 0; i < n; i++) {
		if (m[i].state > GOSSIP_SUSPECT)
			continue;
		uint16_t cpus = m[i].res.cpus ? m[i].res.cpus : 1;
		uint32_t mem = m[i].res.mem_total_mib;
		struct known *k = find_known(m[i].name);
		if (k && k->cpus == cpus && k->mem == mem && !strcmp(k->tags, m[i].tags))
			continue;
		if (!k) {
			if (nknown >= MEMBERS_MAX)
				continue;
			k = &known[nknown++];
		}
		memcpy(k->name, m[i].name, sizeof k->name);
		memcpy(k->tags, m[i].tags, sizeof k->tags);
		k->cpus = cpus;
		k->mem = mem;
		struct cluster_node cn = {.tags = k->tags, .cpus = cpus, .mem_mib = mem};
		memcpy(cn.name, k->name, sizeof cn.name);
		cluster_node_up(core, &cn, now);
	}
	for (size_t j = 0; j < nknown;) {
		bool up = false;
		for (int i = 0; i < n && !up; i++)
			up = m[i].state <= GOSSIP_SUSPECT && !strcmp(m[i].name, known[j].name);
		if (up) {
			j++;
			continue;
		}
		cluster_node_down(core, known[j].name, now);
		known[j] = known[--nknown];
	}
	mutex_unlock(&core_lock);
	kfree(m);
}

/* ---- the instances this node runs ---- */

static struct run *find_run(const char *name)
{
	for (struct run *r = runs; r; r = r->next)
		if (!strcmp(r->name, name))
			return r;
	return NULL;
}

static struct run *add_run(const struct cluster_inst *inst)
{
	struct run *r = kzalloc(sizeof *r);
	if (!r)
		return NULL;
	r->inst = *inst;
	inst_name(inst, r->name);
	mutex_lock(&runs_lock);
	r->next = runs;
	runs = r;
	mutex_unlock(&runs_lock);
	return r;
}

/* Forget ended runs whose task the task layer no longer keeps, and the oldest beyond
 * RUNS_ENDED_MAX. */
static void prune_runs(void)
{
	size_t ended = 0;
	mutex_lock(&runs_lock);
	for (struct run **p = &runs; *p;) {
		struct run *r = *p;
		struct task_info ti;
		if (r->st == RUN_ENDED &&
		    (++ended > RUNS_ENDED_MAX || r->task <= 0 || task_info(r->task, &ti) < 0)) {
			*p = r->next;
			kfree(r);
			continue;
		}
		p = &r->next;
	}
	mutex_unlock(&runs_lock);
}

static const char *reason(int err)
{
	switch (err) {
	case -ENOENT:
		return "no such program";
	case -ENOEXEC:
		return "not a loadable static x86-64 ELF";
	case -E2BIG:
		return "arguments too long";
	case -EAGAIN:
		return "too many tasks";
	case -ENOMEM:
		return "out of memory";
	case -EHOSTUNREACH:
		return "blob unavailable";
	default:
		return "cannot start";
	}
}

static void report_ended(struct run *r, enum cluster_inst_state st, int status, const char *tail,
			 size_t tail_len)
{
	mutex_lock(&runs_lock);
	r->st = RUN_ENDED;
	mutex_unlock(&runs_lock);
	mutex_lock(&core_lock);
	cluster_inst_ended(core, &r->inst, st, status, tail, tail_len, agent_now_ms());
	mutex_unlock(&core_lock);
	reported = true;
	AGENT_COUNT(ended);
	if (st == CLUSTER_FAILED)
		kinfo("cluster: instance %s.%u failed: %s (%d)", r->inst.job, r->inst.slot,
		      reason(status), status);
	else if (st == CLUSTER_STOPPED)
		kinfo("cluster: instance %s.%u stopped", r->inst.job, r->inst.slot);
	else
		kinfo("cluster: instance %s.%u exited with %d", r->inst.job, r->inst.slot, status);
}

/* Split NUL-separated strings into a NULL-terminated array (at most TASK_ARGS_MAX). */
static void split(const char *s, size_t len, const char **out)
{
	size_t n = 0;
	for (size_t i = 0; i < len && n < TASK_ARGS_MAX; n++) {
		out[n] = s + i;
		i += strnlen(s + i, len - i) + 1;
	}
	out[n] = NULL;
}

/* Start the task of a START effect (the blob, if any, is here or known missing). */
static void start(struct start *s, struct run *r)
{
	const struct cluster_job_spec *spec = &s->job.spec;
	const uint8_t *image = NULL;
	size_t image_len = 0;
	int id;
	if (spec->has_blob && !agent_blob_pin(spec->blob_sha256, &image, &image_len)) {
		id = s->fetch_rc < 0 ? s->fetch_rc : -EHOSTUNREACH;
	} else {
		/* Both NUL-terminated within their buffers: the core validated the spec. */
		static const char *argv[TASK_ARGS_MAX + 1], *envp[TASK_ARGS_MAX + 1];
		split(spec->argv, spec->argv_len < CLUSTER_ARGV_BYTES ? spec->argv_len : 0, argv);
		split(spec->env, spec->env_len < CLUSTER_ENV_BYTES ? spec->env_len : 0, envp);
		struct task_spec ts = {
			.program = spec->program[0] ? spec->program : "blob",
			.image = image,
			.image_len = image_len,
			.argv = argv[0] ? argv : NULL,
			.envp = envp,
			.limits = {.mem_bytes = (uint64_t)spec->mem_mib << 20, .cpus = spec->cpu},
		};
		id = task_spawn(&ts);
		if (image)
			agent_blob_unpin(spec->blob_sha256);
	}
	if (id < 0) {
		AGENT_COUNT(start_failed);
		report_ended(r, CLUSTER_FAILED, id, NULL, 0);
		return;
	}
	mutex_lock(&runs_lock);
	r->task = id;
	r->st = RUN_RUNNING;
	mutex_unlock(&runs_lock);
	mutex_lock(&core_lock);
	cluster_inst_started(core, &r->inst, agent_now_ms());
	mutex_unlock(&core_lock);
	reported = true;
	AGENT_COUNT(started);
	kinfo("cluster: instance %s.%u running as task %d", r->inst.job, r->inst.slot, id);
	if (r->killed) /* stopped while its blob was coming */
		task_kill(id);
}

static void on_start(struct start *s)
{
	char name[AGENT_INST_NAME_MAX + 1];
	inst_name(&s->inst, name);
	mutex_lock(&runs_lock);
	bool dup = find_run(name) != NULL;
	mutex_unlock(&runs_lock);
	if (dup) { /* the core asked twice: once is enough */
		kfree(s);
		return;
	}
	struct run *r = add_run(&s->inst);
	if (!r) {
		kfree(s);
		return;
	}
	const struct cluster_job_spec *spec = &s->job.spec;
	if (spec->has_blob && !agent_blob_has(spec->blob_sha256)) {
		r->st = RUN_FETCHING;
		if (mbox_trypost(&fetches, s) == 0)
			return;
		s->fetch_rc = -EHOSTUNREACH;
	}
	start(s, r);
	kfree(s);
}

static void on_fetched(struct start *s)
{
	char name[AGENT_INST_NAME_MAX + 1];
	inst_name(&s->inst, name);
	mutex_lock(&runs_lock);
	struct run *r = find_run(name);
	mutex_unlock(&runs_lock);
	if (r && r->st == RUN_FETCHING) {
		if (r->killed)
			report_ended(r, CLUSTER_STOPPED, 0, NULL, 0);
		else
			start(s, r);
	}
	kfree(s);
}

static void on_kill(const struct cluster_inst *inst)
{
	char name[AGENT_INST_NAME_MAX + 1];
	inst_name(inst, name);
	mutex_lock(&runs_lock);
	struct run *r = find_run(name);
	int task = 0;
	if (r && r->st != RUN_ENDED) {
		r->killed = true;
		task = r->st == RUN_RUNNING ? r->task : 0;
	}
	mutex_unlock(&runs_lock);
	if (task > 0)
		task_kill(task); /* its end is reported by watch() */
	else if (!r) {
		/* Nothing runs it here (never started, or forgotten): say it is stopped. */
		mutex_lock(&core_lock);
		cluster_inst_ended(core, inst, CLUSTER_STOPPED, 0, NULL, 0, agent_now_ms());
		mutex_unlock(&core_lock);
		reported = true;
	}
}

/* Report the tasks that ended since the last look, with the tail of their output. */
static void watch(void)
{
	for (;;) {
		struct run *found = NULL;
		struct task_info ti;
		mutex_lock(&runs_lock);
		for (struct run *r = runs; r && !found; r = r->next)
			if (r->st == RUN_RUNNING &&
			    (task_info(r->task, &ti) < 0 || ti.state != TASK_RUNNING))
				found = r;
		mutex_unlock(&runs_lock);
		if (!found)
			return;
		char tail[CLUSTER_TAIL_MAX];
		long got = 0;
		uint64_t next;
		int status = -ESRCH;
		if (task_info(found->task, &ti) == 0) {
			status = ti.status;
			uint64_t off = ti.output_bytes > CLUSTER_TAIL_MAX
					       ? ti.output_bytes - CLUSTER_TAIL_MAX
					       : 0;
			got = task_output(found->task, off, tail, sizeof tail, &next);
		}
		if (got < 0)
			got = 0;
		report_ended(found, found->killed ? CLUSTER_STOPPED : CLUSTER_EXITED, status, tail,
			     (size_t)got);
	}
}

long agent_local_output(const char *inst, uint64_t off, void *buf, size_t len, uint64_t *next,
			bool *ended)
{
	mutex_lock(&runs_lock);
	struct run *r = find_run(inst);
	int task = r ? r->task : 0;
	enum run_state st = r ? r->st : RUN_ENDED;
	mutex_unlock(&runs_lock);
	if (!r)
		return -ENOENT;
	if (st == RUN_FETCHING || task <= 0) {
		*next = off;
		*ended = st == RUN_ENDED;
		return 0;
	}
	struct task_info ti;
	if (task_info(task, &ti) < 0)
		return -ENOENT;
	long got = task_output(task, off, buf, len, next);
	if (got < 0)
		return -ENOENT;
	*ended = ti.state != TASK_RUNNING && *next >= ti.output_bytes;
	return got;
}

/* ---- the fetch thread ---- */

static void fetcher(void *arg)
{
	(void)arg;
	for (;;) {
		void *p;
		if (mbox_fetch(&fetches, &p, 0) < 0)
			continue;
		struct start *s = p;
		s->fetch_rc = agent_peer_fetch_blob(s->job.spec.blob_sha256, s->job.submitted_on);
		if (s->fetch_rc < 0)
			kwarn("cluster: instance %s.%u: blob not fetched from any node (%d)",
			      s->inst.job, s->inst.slot, s->fetch_rc);
		struct input *in = kmalloc(sizeof *in);
		if (!in) {
			kfree(s);
			continue;
		}
		in->next = NULL;
		in->kind = IN_FETCHED;
		in->start = s;
		in->len = 0;
		enqueue(in);
	}
}

/* ---- the agent thread ---- */

/* Feed the core what the queue holds; fetched blobs come back as starts. */
static void drain_queue(void)
{
	mutex_lock(&qlock);
	struct input *in = qhead;
	qhead = qtail = NULL;
	qlen = 0;
	mutex_unlock(&qlock);
	while (in) {
		struct input *next = in->next;
		if (in->kind == IN_FETCHED) {
			on_fetched(in->start);
		} else if (in->kind == IN_MSG && agent_keys_is_msg(in->data, in->len)) {
			agent_keys_in(in->data, in->len);
		} else {
			mutex_lock(&core_lock);
			uint64_t now = agent_now_ms();
			int rc = in->kind == IN_MSG
					 ? cluster_msg_in(core, in->data, in->len, now)
					 : cluster_state_in(core, in->data, in->len, now);
			mutex_unlock(&core_lock);
			if (rc < 0) /* counted by the core (msgs_bad, states_bad) */
				kdebug("cluster: a replication %s of %zu bytes did not decode",
				       in->kind == IN_MSG ? "message" : "state", in->len);
		}
		kfree(in);
		in = next;
	}
}

/* Copy the core's effects out (core_lock held): how many, in *out (heap), or 0. */
static size_t take_effects(struct eff **out)
{
	size_t n = 0, cap = 0;
	struct eff *v = NULL;
	struct cluster_effect e;
	while (cluster_next_effect(core, &e)) {
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 16;
			struct eff *nv = kmalloc(ncap * sizeof *nv);
			if (!nv)
				break; /* the core re-sends what is lost (rebroadcast, reconcile) */
			if (v)
				memcpy(nv, v, n * sizeof *nv);
			kfree(v);
			v = nv;
			cap = ncap;
		}
		struct eff *f = &v[n];
		memset(f, 0, sizeof *f);
		f->kind = e.kind;
		f->key = e.key;
		memcpy(f->node, e.node, sizeof f->node);
		if (e.kind == CLUSTER_EFFECT_START || e.kind == CLUSTER_EFFECT_KILL) {
			f->start = kzalloc(sizeof *f->start);
			if (!f->start)
				continue;
			f->start->inst = e.inst;
			if (e.kind == CLUSTER_EFFECT_START) {
				if (!e.job) {
					kfree(f->start);
					continue;
				}
				f->start->job = *e.job;
			}
		} else if (e.len) {
			f->data = kmalloc(e.len);
			if (!f->data)
				continue;
			memcpy(f->data, e.data, e.len);
			f->len = e.len;
		}
		n++;
	}
	*out = v;
	return n;
}

static void carry_out(struct eff *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct eff *f = &v[i];
		switch (f->kind) {
		case CLUSTER_EFFECT_BROADCAST:
			members_app_broadcast(f->key, f->data, f->len);
			break;
		case CLUSTER_EFFECT_SEND:
			members_app_send(f->node, f->data, f->len);
			break;
		case CLUSTER_EFFECT_START:
			on_start(f->start); /* takes it */
			f->start = NULL;
			break;
		case CLUSTER_EFFECT_KILL:
			on_kill(&f->start->inst);
			break;
		}
		kfree(f->data);
		kfree(f->start);
	}
	kfree(v);
}

static void refresh_state(void)
{
	size_t len = 0;
	mutex_lock(&core_lock);
	uint8_t *buf = cluster_state(core, &len);
	mutex_unlock(&core_lock);
	if (!buf)
		return;
	mutex_lock(&state_lock);
	uint8_t *old = state_buf;
	state_buf = buf;
	state_len = len;
	mutex_unlock(&state_lock);
	kfree(old);
}

/* Log the jobs this node took since the last look (once each). */
static void log_submissions(void)
{
	struct cluster_job *j = kmalloc(sizeof *j);
	if (!j)
		return;
	mutex_lock(&core_lock);
	size_t n = cluster_job_count(core);
	for (size_t i = 0; i < n && i < LOGGED_JOBS && cluster_job_at(core, i, j); i++) {
		if (strcmp(j->submitted_on, self))
			continue;
		bool seen = false;
		for (int k = 0; k < LOGGED_JOBS && !seen; k++)
			seen = !strcmp(logged[k], j->id);
		if (seen)
			continue;
		memcpy(logged[logged_next % LOGGED_JOBS], j->id, sizeof logged[0]);
		memcpy(firsts[logged_next % LOGGED_JOBS].id, j->id, sizeof firsts[0].id);
		firsts[logged_next++ % LOGGED_JOBS].submitted_ms = j->submitted_ms;
		kinfo("cluster: job %s (%s) submitted by %s: %s x %u %s", j->id,
		      j->spec.name[0] ? j->spec.name : "-",
		      j->submitted_by[0] ? j->submitted_by : "-",
		      j->spec.kind == CLUSTER_SERVICE ? "service" : "batch", j->spec.count,
		      j->spec.program);
	}
	mutex_unlock(&core_lock);
	kfree(j);
}

/* Log how long the first instance of each job submitted here took to run (anywhere): the
 * submit-to-running figure on this node's clock. Looked at on every loop, so the figure
 * is as fine as the reports' arrival. */
static void watch_firsts(void)
{
	uint64_t now = agent_now_ms();
	for (int k = 0; k < LOGGED_JOBS; k++) {
		struct first *f = &firsts[k];
		if (!f->id[0])
			continue;
		mutex_lock(&core_lock);
		bool found = cluster_job_find(core, f->id, &scratch);
		mutex_unlock(&core_lock);
		if (found && scratch.running + scratch.completed + scratch.failed == 0 &&
		    now - f->submitted_ms < FIRST_WATCH_MS)
			continue;
		if (found && now >= f->submitted_ms && scratch.running + scratch.completed)
			kinfo("cluster: job %s first instance running %llu ms after submission",
			      f->id, (unsigned long long)(now - f->submitted_ms));
		f->id[0] = 0;
	}
}

static void agent_thread(void *arg)
{
	(void)arg;
	struct members_local l;
	uint64_t t0 = agent_now_ms();
	while (!members_running() || members_local(&l) < 0) {
		if (agent_now_ms() - t0 > START_GIVE_UP_MS) {
			kinfo("cluster: scheduler off: membership is not running");
			return;
		}
		thread_sleep_ns(START_WAIT_MS * NS_PER_MS);
	}
	memcpy(self, l.name, sizeof self);
	uint8_t seed[32];
	random_bytes(seed, sizeof seed);
	struct cluster_config cfg;
	cluster_config_default(&cfg);
	cfg.tick_ms = AGENT_TICK_MS;
	known = kmalloc(MEMBERS_MAX * sizeof *known);
	struct cluster *c = known ? cluster_new(&cfg, self, seed, agent_now_ms()) : NULL;
	struct thread *ft = thread_create("agent-fetch", fetcher, NULL, THREAD_ANY_CPU);
	if (!c || !ft || mbox_init(&fetches, FETCH_QUEUE) < 0) {
		kerror("cluster: scheduler off: out of memory");
		if (ft)
			thread_discard(ft);
		return;
	}
	mutex_lock(&core_lock);
	core = c;
	mutex_unlock(&core_lock);
	thread_start(ft);
	agent_peer_start();
	sync_members();
	refresh_state();
	kinfo("cluster: scheduler on %s, %zu jobs", self, cluster_job_count(c));
	running = true;

	uint64_t next_state = 0, next_sync = agent_now_ms() + SYNC_MS;
	for (;;) {
		mutex_lock(&core_lock);
		uint64_t deadline = cluster_deadline(core), now = agent_now_ms();
		mutex_unlock(&core_lock);
		uint64_t wait = !deadline ? AGENT_TICK_MS : deadline > now ? deadline - now : 0;
		if (wait > AGENT_TICK_MS)
			wait = AGENT_TICK_MS;
		if (wait < MIN_WAIT_MS)
			wait = MIN_WAIT_MS;
		sem_wait(&wake, wait * NS_PER_MS);
		now = agent_now_ms();
		if (members_dirty || now >= next_sync) {
			sync_members();
			next_sync = now + SYNC_MS;
		}
		drain_queue();
		watch();
		struct eff *v;
		mutex_lock(&core_lock);
		cluster_tick(core, agent_now_ms());
		size_t n = take_effects(&v);
		mutex_unlock(&core_lock);
		carry_out(v, n);
		/* Reports (started, ended) made the core write records: send them now, not a
		 * tick later (submit-to-running is measured across this). */
		for (int round = 0; reported && round < DRAIN_ROUNDS; round++) {
			reported = false;
			mutex_lock(&core_lock);
			n = take_effects(&v);
			mutex_unlock(&core_lock);
			carry_out(v, n);
		}
		mutex_lock(&core_lock);
		size_t jc = cluster_job_count(core);
		mutex_unlock(&core_lock);
		if (jc != jobs_seen) {
			jobs_seen = jc;
			log_submissions();
		}
		watch_firsts();
		now = agent_now_ms();
		if (now >= next_state) {
			refresh_state();
			log_submissions();
			prune_runs();
			next_state = now + STATE_REFRESH_MS;
		}
	}
}

void agent_init_locks(void)
{
	mutex_init(&core_lock);
	mutex_init(&qlock);
	mutex_init(&state_lock);
	mutex_init(&runs_lock);
	sem_init(&wake, 0);
	agent_blob_init();
}

void agent_init(void)
{
	agent_init_locks();
	static const struct members_app_ops ops = {
		.in = app_in, .state = app_state, .event = app_event};
	members_set_app(&ops);
}

void agent_start(void)
{
	struct thread *t = thread_create("agent", agent_thread, NULL, THREAD_ANY_CPU);
	if (t)
		thread_start(t);
	else
		kerror("cluster: scheduler off: no thread");
}

bool agent_running(void) { return running; }

struct cluster *agent_lock(void)
{
	if (!running)
		return NULL;
	mutex_lock(&core_lock);
	return core;
}

void agent_unlock(void) { mutex_unlock(&core_lock); }

void agent_kick(void) { sem_signal(&wake); }

long agent_output(const char *inst, uint64_t off, void *buf, size_t len, uint64_t *next,
		  bool *ended)
{
	struct cluster_inst ci;
	if (!running)
		return -ENOENT;
	mutex_lock(&core_lock);
	bool found = cluster_inst_find(core, inst, &ci);
	mutex_unlock(&core_lock);
	if (!found)
		return -ENOENT;
	char name[AGENT_INST_NAME_MAX + 1];
	inst_name(&ci, name);
	long got = agent_local_output(name, off, buf, len, next, ended);
	if (got != -ENOENT)
		return got;
	bool over = ci.state >= CLUSTER_EXITED;
	if (strcmp(ci.node, self) && ci.node[0]) {
		got = agent_peer_output(ci.node, name, off, buf, len, next, ended);
		if (got >= 0 || (got != -ENOENT && !over))
			return got;
	}
	if (!over && ci.state == CLUSTER_RUNNING)
		return -EHOSTUNREACH;
	/* The record's tail: all that is left of it. */
	*ended = over;
	if (off >= ci.tail_len) {
		*next = off;
		return 0;
	}
	size_t n = ci.tail_len - off < len ? ci.tail_len - off : len;
	memcpy(buf, ci.tail + off, n);
	*next = off + n;
	return (long)n;
}

void agent_stats(struct agent_stats *s)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	*s = agent_counters;
}
