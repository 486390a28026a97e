/* exec.c: the console's commands, run against the kernel: one session loop for every
 * transport (server.c's TLS and plain TCP sessions, serial.c's COM1 lines).
 *
 * A session reads bytes, frames them (console_reader), parses each line (console_parse),
 * runs the command and writes its reply block (console_out). A line that is too long,
 * binary or does not parse gets an `err` reply and the session goes on. `upload` turns
 * the reader to raw mode for SIZE bytes, hashed (SHA-256) as they come and kept in one
 * buffer, then stored with agent_blob_put. `logs -f` and `submit --wait` hold the
 * session (no input is read meanwhile) within bounds: the idle timeout without new
 * output, and CONSOLE_WAIT_MS.
 *
 * Views and commands on the job table run under agent_lock, never doing I/O there: the
 * reply is built in memory and written after agent_unlock. Every state-changing command
 * is logged with the session's identity before it runs. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "kernel/config.h"
#include "kernel/heap.h"
#include "kernel/log.h"
#include "kernel/power.h"
#include "kernel/printf.h"
#include "kernel/thread.h"
#include "kernel/time.h"
#include "mbedtls/sha256.h"
#include "net/console/console.h"
#include "net/console/server.h"
#include "net/gossip/keyring.h"
#include "net/members.h"
#include "sched/agent.h"
#include "sched/cluster/cluster.h"

#define NS_PER_MS 1000000ULL
#define READ_CHUNK 2048	    /* bytes read from the transport at once */
#define MEMBERS_MAX 4096    /* members listed by `members` and `nodes` */
#define INSTS_MAX 4096	    /* instances listed for one job */
#define OUTPUT_CHUNK 4096   /* bytes of instance output read at once */
#define LOGS_MAX (1u << 20) /* logs without -f: at most this much output in one block */
#define WAIT_POLL_MS 200    /* submit --wait looks at the job this often */
#define FINGERPRINT_BYTES 8 /* keys list: a key is shown as its SHA-256's first bytes */
#define ACTION_NONE 0
#define ACTION_QUIT 1
#define ACTION_SHUTDOWN 2
#define ACTION_REBOOT 3

struct sess {
	struct console_io *io;
	struct console_reader r;
	struct console_cmd cmd;
	char err[256];
	/* An upload in progress (raw mode). */
	bool uploading, upload_json;
	uint8_t *blob;
	size_t blob_len, blob_size;
	uint8_t sha[32];
	mbedtls_sha256_context hash;
};

static uint64_t now_ms(void) { return time_ns() / NS_PER_MS; }

static void count(uint64_t *c, uint64_t n) { __atomic_fetch_add(c, n, __ATOMIC_RELAXED); }

static void fingerprint(const uint8_t *key, size_t len, char out[2 * FINGERPRINT_BYTES + 1]);

/* Log a command that changes state with who gave it; a key is logged as its fingerprint,
 * never as itself. */
static void audit(struct sess *s, const char *line, size_t len)
{
	static const char *const ops[] = {"list", "install", "use", "remove"};
	if (s->cmd.kind == CONSOLE_KEYS) {
		struct gossip_keyring one;
		char fp[2 * FINGERPRINT_BYTES + 1] = "?";
		if (gossip_keyring_parse(&one, s->cmd.u.keys.key) == 0 && one.n == 1)
			fingerprint(one.key[0], one.len[0], fp);
		memset(&one, 0, sizeof one);
		kinfo("console: %s: keys %s (key sha256 %s...)", s->io->who, ops[s->cmd.u.keys.op],
		      fp);
		return;
	}
	kinfo("console: %s: %.*s", s->io->who, (int)(len > 200 ? 200 : len), line);
}

/* Send a finished reply; the status line tells whether it counts as an error. */
static int send_reply(struct sess *s, const char *reply)
{
	size_t len = strlen(reply);
	count(&console_counters.commands, 1);
	/* The status line is the last one: after the body's final LF. */
	size_t i = len > 1 ? len - 1 : 0;
	while (i > 0 && reply[i - 1] != '\n')
		i--;
	if (!strncmp(reply + i, "err", 3))
		count(&console_counters.commands_failed, 1);
	return s->io->write(s->io->ctx, reply, len);
}

static const char *hex(const uint8_t *b, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[2 * n] = 0;
	return out;
}

static void addr_str(struct gossip_addr a, char *buf, size_t n)
{
	ksnprintf(buf, n, "%u.%u.%u.%u:%u", a.ip >> 24, (a.ip >> 16) & 0xff, (a.ip >> 8) & 0xff,
		  a.ip & 0xff, a.port);
}

/* --- members and nodes ------------------------------------------------------------------- */

/* A members snapshot on the heap: the count (NULL and 0 when not running or no memory). */
static struct members_entry *snapshot(size_t *n)
{
	struct members_entry *m = kmalloc(sizeof *m * MEMBERS_MAX);
	int r = m ? members_snapshot(m, MEMBERS_MAX) : -ENOMEM;
	if (r < 0) {
		kfree(m);
		*n = 0;
		return NULL;
	}
	*n = (size_t)r < MEMBERS_MAX ? (size_t)r : MEMBERS_MAX;
	return m;
}

static int name_width(const struct members_entry *m, size_t n, int min)
{
	int w = min;
	for (size_t i = 0; i < n; i++)
		if ((int)strlen(m[i].name) > w)
			w = (int)strlen(m[i].name);
	return w;
}

static const char *cmd_members(struct console_out *o)
{
	size_t n;
	struct members_entry *m = snapshot(&n);
	if (!m)
		return console_out_err(o, "unavailable", "membership is not running");
	char a[32];
	if (o->json) {
		console_out_raw(o, "{\"members\":[");
		for (size_t i = 0; i < n; i++) {
			addr_str(m[i].addr, a, sizeof a);
			console_out_raw(o, "%s{\"name\":", i ? "," : "");
			console_out_json_str(o, m[i].name, strlen(m[i].name));
			console_out_raw(o,
					",\"addr\":\"%s\",\"state\":\"%s\",\"incarnation\":%u,"
					"\"cpus\":%u,\"mem_total_mib\":%u,\"mem_free_mib\":%u,"
					"\"tasks\":%u,\"tags\":",
					a, gossip_state_name(m[i].state), m[i].incarnation,
					m[i].res.cpus, m[i].res.mem_total_mib,
					m[i].res.mem_free_mib, m[i].res.tasks);
			console_out_json_str(o, m[i].tags, strlen(m[i].tags));
			console_out_raw(o, "}");
		}
		console_out_raw(o, "]}");
	} else {
		int w = name_width(m, n, 4);
		console_out_line(o, "%-*s  %-21s  %-7s  %5s  %4s  %12s  %5s  %s", w, "NAME", "ADDR",
				 "STATE", "INC", "CPUS", "FREE/MEM MIB", "TASKS", "TAGS");
		for (size_t i = 0; i < n; i++) {
			char mem[24];
			addr_str(m[i].addr, a, sizeof a);
			ksnprintf(mem, sizeof mem, "%u/%u", m[i].res.mem_free_mib,
				  m[i].res.mem_total_mib);
			console_out_line(o, "%-*s  %-21s  %-7s  %5u  %4u  %12s  %5u  %s", w,
					 m[i].name, a, gossip_state_name(m[i].state),
					 m[i].incarnation, m[i].res.cpus, mem, m[i].res.tasks,
					 m[i].tags[0] ? m[i].tags : "-");
		}
	}
	kfree(m);
	return console_out_ok(o);
}

static const char *cmd_nodes(struct console_out *o)
{
	size_t n;
	struct members_entry *m = snapshot(&n);
	if (!m)
		return console_out_err(o, "unavailable", "membership is not running");
	/* Load from the job table, when the scheduler runs: copied under the lock. */
	struct load {
		uint32_t insts, cpu, mem;
		bool drain;
	} *ld = kzalloc(sizeof *ld * (n ? n : 1));
	if (!ld) {
		kfree(m);
		return console_out_err(o, "internal", "out of memory");
	}
	struct cluster *c = agent_lock();
	if (c) {
		for (size_t i = 0; i < n; i++) {
			cluster_node_load(c, m[i].name, &ld[i].insts, &ld[i].cpu, &ld[i].mem);
			ld[i].drain = cluster_node_draining(c, m[i].name);
		}
		agent_unlock();
	}
	if (o->json) {
		console_out_raw(o, "{\"scheduler\":%s,\"nodes\":[", c ? "true" : "false");
		for (size_t i = 0; i < n; i++) {
			console_out_raw(o, "%s{\"name\":", i ? "," : "");
			console_out_json_str(o, m[i].name, strlen(m[i].name));
			console_out_raw(o,
					",\"state\":\"%s\",\"cpus\":%u,\"mem_total_mib\":%u,"
					"\"mem_free_mib\":%u,\"tasks\":%u,\"instances\":%u,"
					"\"cpu_used\":%u,\"mem_used_mib\":%u,\"draining\":%s}",
					gossip_state_name(m[i].state), m[i].res.cpus,
					m[i].res.mem_total_mib, m[i].res.mem_free_mib,
					m[i].res.tasks, ld[i].insts, ld[i].cpu, ld[i].mem,
					ld[i].drain ? "true" : "false");
		}
		console_out_raw(o, "]}");
	} else {
		int w = name_width(m, n, 4);
		console_out_line(o, "%-*s  %-7s  %4s  %8s  %9s  %5s  %5s  %7s  %8s  %s", w, "NAME",
				 "STATE", "CPUS", "MEM MIB", "FREE MIB", "TASKS", "INSTS",
				 "CPU USE", "MEM USE", "DRAIN");
		for (size_t i = 0; i < n; i++)
			console_out_line(o, "%-*s  %-7s  %4u  %8u  %9u  %5u  %5u  %7u  %8u  %s", w,
					 m[i].name, gossip_state_name(m[i].state), m[i].res.cpus,
					 m[i].res.mem_total_mib, m[i].res.mem_free_mib,
					 m[i].res.tasks, ld[i].insts, ld[i].cpu, ld[i].mem,
					 ld[i].drain ? "yes" : "no");
		if (!c)
			console_out_line(o, "(the scheduler is not running: no load figures)");
	}
	kfree(ld);
	kfree(m);
	return console_out_ok(o);
}

/* --- jobs ------------------------------------------------------------------------------- */

static const char *no_scheduler(struct console_out *o)
{
	return console_out_err(o, "unavailable", "the cluster scheduler is not running");
}

static const char *kind_name(enum cluster_job_kind k)
{
	return k == CLUSTER_SERVICE ? "service" : "batch";
}

static void job_json(struct console_out *o, const struct cluster_job *j)
{
	console_out_raw(o, "{\"id\":\"%s\",\"name\":", j->id);
	console_out_json_str(o, j->spec.name, strlen(j->spec.name));
	console_out_raw(o,
			",\"kind\":\"%s\",\"state\":\"%s\",\"count\":%u,\"running\":%u,"
			"\"completed\":%u,\"failed\":%u,\"pending\":%u,\"stopped\":%s,\"program\":",
			kind_name(j->spec.kind), cluster_job_state_name(j->state), j->count,
			j->running, j->completed, j->failed, j->pending,
			j->stopped ? "true" : "false");
	console_out_json_str(o, j->spec.program, strlen(j->spec.program));
	console_out_raw(o, ",\"submitted_by\":");
	console_out_json_str(o, j->submitted_by, strlen(j->submitted_by));
	console_out_raw(o, ",\"submitted_on\":");
	console_out_json_str(o, j->submitted_on, strlen(j->submitted_on));
	console_out_raw(o, ",\"coordinator\":");
	console_out_json_str(o, j->coordinator, strlen(j->coordinator));
	console_out_raw(o, "}");
}

#define JOB_HEAD "%-10s  %-16s  %-7s  %-8s  %5s  %7s  %5s  %6s  %7s  %s"
static void job_head(struct console_out *o)
{
	console_out_line(o, JOB_HEAD, "ID", "NAME", "KIND", "STATE", "COUNT", "RUNNING", "DONE",
			 "FAILED", "PENDING", "PROGRAM");
}

static void job_row(struct console_out *o, const struct cluster_job *j)
{
	console_out_line(o, "%-10s  %-16s  %-7s  %-8s  %5u  %7u  %5u  %6u  %7u  %s", j->id,
			 j->spec.name[0] ? j->spec.name : "-", kind_name(j->spec.kind),
			 cluster_job_state_name(j->state), j->count, j->running, j->completed,
			 j->failed, j->pending, j->spec.program);
}

static const char *cmd_jobs(struct console_out *o)
{
	struct cluster_job *j = kmalloc(sizeof *j);
	if (!j)
		return console_out_err(o, "internal", "out of memory");
	struct cluster *c = agent_lock();
	if (!c) {
		kfree(j);
		return no_scheduler(o);
	}
	size_t n = cluster_job_count(c);
	if (o->json)
		console_out_raw(o, "{\"jobs\":[");
	else
		job_head(o);
	for (size_t i = 0, k = 0; i < n; i++) {
		if (!cluster_job_at(c, i, j))
			continue;
		if (o->json) {
			console_out_raw(o, "%s", k++ ? "," : "");
			job_json(o, j);
		} else {
			job_row(o, j);
		}
	}
	agent_unlock();
	if (o->json)
		console_out_raw(o, "]}");
	kfree(j);
	return console_out_ok(o);
}

static const char *exit_str(const struct cluster_inst *in, char *buf, size_t n)
{
	if (in->state == CLUSTER_EXITED || in->state == CLUSTER_FAILED)
		ksnprintf(buf, n, "%d", in->status);
	else
		ksnprintf(buf, n, "-");
	return buf;
}

static void inst_json(struct console_out *o, const struct cluster_inst *in)
{
	console_out_raw(o, "{\"instance\":\"%s.%u\",\"attempt\":%u,\"node\":", in->job, in->slot,
			in->attempt);
	console_out_json_str(o, in->node, strlen(in->node));
	console_out_raw(o, ",\"state\":\"%s\"", cluster_inst_state_name(in->state));
	if (in->state == CLUSTER_EXITED || in->state == CLUSTER_FAILED)
		console_out_raw(o, ",\"status\":%d", in->status);
	console_out_raw(o, ",\"duplicate\":%s}", in->duplicate ? "true" : "false");
}

#define INST_HEAD "%-16s  %7s  %-20s  %-9s  %s"
static void inst_row(struct console_out *o, const struct cluster_inst *in)
{
	char name[CLUSTER_JOB_ID_LEN + 16], ex[16];
	ksnprintf(name, sizeof name, "%s.%u", in->job, in->slot);
	console_out_line(o, "%-16s  %7u  %-20s  %-9s  %s%s", name, in->attempt,
			 in->node[0] ? in->node : "-", cluster_inst_state_name(in->state),
			 exit_str(in, ex, sizeof ex), in->duplicate ? " (duplicate)" : "");
}

/* A job and its instances (latest attempt per slot), under the lock: true when found. */
static bool job_status(struct console_out *o, struct cluster *c, const char *name,
		       struct cluster_job *j, struct cluster_inst *insts)
{
	if (!cluster_job_find(c, name, j))
		return false;
	size_t n = cluster_job_insts(c, j->id, false, insts, INSTS_MAX);
	if (n > INSTS_MAX)
		n = INSTS_MAX;
	if (o->json) {
		console_out_raw(o, "{\"job\":");
		job_json(o, j);
		console_out_raw(o, ",\"instances\":[");
		for (size_t i = 0; i < n; i++) {
			console_out_raw(o, "%s", i ? "," : "");
			inst_json(o, &insts[i]);
		}
		console_out_raw(o, "]}");
	} else {
		job_head(o);
		job_row(o, j);
		console_out_line(o, INST_HEAD, "INSTANCE", "ATTEMPT", "NODE", "STATE", "EXIT");
		for (size_t i = 0; i < n; i++)
			inst_row(o, &insts[i]);
	}
	return true;
}

static const char *cmd_status(struct console_out *o, const char *name)
{
	struct cluster_job *j = kmalloc(sizeof *j);
	struct cluster_inst *insts = kmalloc(sizeof *insts * INSTS_MAX);
	const char *r;
	struct cluster *c = j && insts ? agent_lock() : NULL;
	if (!j || !insts) {
		r = console_out_err(o, "internal", "out of memory");
	} else if (!c) {
		r = no_scheduler(o);
	} else {
		bool found = job_status(o, c, name, j, insts);
		agent_unlock();
		r = found ? console_out_ok(o) : console_out_err(o, "notfound", "no job %s", name);
	}
	kfree(j);
	kfree(insts);
	return r;
}

static const char *cmd_ps(struct console_out *o)
{
	struct cluster_job *j = kmalloc(sizeof *j);
	struct cluster_inst *insts = kmalloc(sizeof *insts * INSTS_MAX);
	struct cluster *c = j && insts ? agent_lock() : NULL;
	const char *r;
	if (!j || !insts) {
		r = console_out_err(o, "internal", "out of memory");
		goto out;
	}
	if (!c) {
		r = no_scheduler(o);
		goto out;
	}
	if (o->json)
		console_out_raw(o, "{\"instances\":[");
	else
		console_out_line(o, INST_HEAD, "INSTANCE", "ATTEMPT", "NODE", "STATE", "EXIT");
	size_t k = 0, jobs = cluster_job_count(c);
	for (size_t i = 0; i < jobs; i++) {
		if (!cluster_job_at(c, i, j))
			continue;
		size_t n = cluster_job_insts(c, j->id, false, insts, INSTS_MAX);
		for (size_t x = 0; x < n && x < INSTS_MAX; x++) {
			if (insts[x].state != CLUSTER_ASSIGNED && insts[x].state != CLUSTER_RUNNING)
				continue;
			if (o->json) {
				console_out_raw(o, "%s", k++ ? "," : "");
				inst_json(o, &insts[x]);
			} else {
				inst_row(o, &insts[x]);
			}
		}
	}
	agent_unlock();
	if (o->json)
		console_out_raw(o, "]}");
	r = console_out_ok(o);
out:
	kfree(j);
	kfree(insts);
	return r;
}

/* Every instance of the job RUNNING or ended (none left ASSIGNED, all slots placed). */
static bool all_started(struct cluster *c, const char *id, struct cluster_inst *insts)
{
	struct cluster_job j;
	if (!cluster_job_find(c, id, &j))
		return true; /* gone: nothing to wait for */
	if (j.state != CLUSTER_JOB_PENDING && j.state != CLUSTER_JOB_RUNNING)
		return true;
	size_t n = cluster_job_insts(c, id, false, insts, INSTS_MAX);
	if (n < j.count && n < INSTS_MAX)
		return false;
	for (size_t i = 0; i < n && i < INSTS_MAX; i++)
		if (insts[i].state == CLUSTER_ASSIGNED)
			return false;
	return true;
}

static const char *cmd_submit(struct sess *s, struct console_out *o)
{
	const struct cluster_job_spec *spec = &s->cmd.u.submit.spec;
	char id[CLUSTER_JOB_ID_LEN + 1];
	const char *why = "";
	struct cluster *c = agent_lock();
	if (!c)
		return no_scheduler(o);
	int r = cluster_submit(c, spec, s->io->who, id, &why, now_ms());
	agent_unlock();
	if (r == -EINVAL)
		return console_out_err(o, "usage", "%s", why && *why ? why : "bad job");
	if (r == -EEXIST)
		return console_out_err(o, "exists", "a live job is named %s", spec->name);
	if (r < 0)
		return console_out_err(o, "internal", "the job table is full (%d)", r);
	kinfo("console: %s: job %s submitted", s->io->who, id);
	agent_kick();
	if (!s->cmd.u.submit.wait) {
		if (o->json)
			console_out_raw(o, "{\"job\":\"%s\"}", id);
		else
			console_out_line(o, "%s", id);
		return console_out_ok(o);
	}
	/* --wait: poll the table until every instance runs or ended, within bounds. */
	struct cluster_inst *insts = kmalloc(sizeof *insts * INSTS_MAX);
	struct cluster_job *j = kmalloc(sizeof *j);
	if (!insts || !j) {
		kfree(insts);
		kfree(j);
		return console_out_err(o, "internal", "out of memory (job %s submitted)", id);
	}
	uint64_t deadline = now_ms() + CONSOLE_WAIT_MS;
	bool done = false;
	while (!done && now_ms() < deadline && !(s->io->stop && *s->io->stop)) {
		thread_sleep_ns(WAIT_POLL_MS * NS_PER_MS);
		c = agent_lock();
		if (!c)
			break;
		done = all_started(c, id, insts);
		agent_unlock();
	}
	const char *rep;
	c = agent_lock();
	if (!c) {
		rep = no_scheduler(o);
	} else {
		if (!o->json)
			console_out_line(o, "%s", id);
		job_status(o, c, id, j, insts);
		agent_unlock();
		rep = done ? console_out_ok(o)
			   : console_out_err(o, "unavailable",
					     "job %s: not every instance started within %d s", id,
					     CONSOLE_WAIT_MS / 1000);
	}
	kfree(insts);
	kfree(j);
	return rep;
}

static const char *job_errno(struct console_out *o, int r, const char *what, const char *name)
{
	if (r == -ENOENT)
		return console_out_err(o, "notfound", "no %s %s", what, name);
	if (r == -EINVAL)
		return console_out_err(o, "usage", "bad count for %s %s", what, name);
	if (r == -EALREADY) {
		console_out_line(o, "already so");
		return console_out_ok(o);
	}
	if (r < 0)
		return console_out_err(o, "internal", "failed (%d)", r);
	agent_kick();
	return console_out_ok(o);
}

static const char *cmd_change(struct sess *s, struct console_out *o)
{
	const struct console_cmd *cmd = &s->cmd;
	struct cluster *c = agent_lock();
	if (!c)
		return no_scheduler(o);
	int r;
	const char *what = "job", *name;
	if (cmd->kind == CONSOLE_STOP) {
		name = cmd->u.job;
		r = cluster_stop(c, name, s->io->who, now_ms());
	} else if (cmd->kind == CONSOLE_SCALE) {
		name = cmd->u.scale.job;
		r = cluster_scale(c, name, cmd->u.scale.count, s->io->who, now_ms());
	} else {
		what = "node";
		name = cmd->u.drain.node;
		r = cluster_drain(c, name, !cmd->u.drain.off, s->io->who, now_ms());
	}
	agent_unlock();
	return job_errno(o, r, what, name);
}

/* --- logs ------------------------------------------------------------------------------- */

/* Output bytes as body lines; a partial last line waits in `part` (flushed when full or at
 * the end). */
struct lines {
	char part[512];
	size_t n;
	bool json; /* logs --json without -f: everything kept for one JSON string */
	char *all;
	size_t all_len;
	bool oom;
};

static void out_bytes(struct console_out *o, struct lines *l, const char *p, size_t len)
{
	if (l->json) {
		if (!l->all)
			l->all = kmalloc(LOGS_MAX);
		if (!l->all || l->all_len + len > LOGS_MAX) {
			l->oom = true;
			return;
		}
		memcpy(l->all + l->all_len, p, len);
		l->all_len += len;
		return;
	}
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n' || l->n == sizeof l->part) {
			console_out_line(o, "%.*s", (int)l->n, l->part);
			l->n = 0;
			if (p[i] == '\n')
				continue;
		}
		l->part[l->n++] = p[i];
	}
}

static void out_flush(struct console_out *o, struct lines *l)
{
	if (l->json) {
		console_out_raw(o, ",\"output\":");
		console_out_json_str(o, l->all ? l->all : "", l->all_len);
		console_out_raw(o, ",\"complete\":%s}", l->oom ? "false" : "true");
		return;
	}
	if (l->n)
		console_out_line(o, "%.*s", (int)l->n, l->part);
	l->n = 0;
}

static const char *logs_errno(struct console_out *o, long r, const char *inst)
{
	if (r == -ENOENT)
		return console_out_err(o, "notfound", "no instance %s", inst);
	if (r == -EHOSTUNREACH)
		return console_out_err(o, "unavailable", "the node of %s cannot be reached", inst);
	return console_out_err(o, "unavailable", "no output for %s (%ld)", inst, r);
}

/* logs INSTANCE [-f]: all output so far in one block; with -f, written out in pieces as it
 * comes until the instance ends (or nothing new for the idle time, or the peer leaves). */
static const char *cmd_logs(struct sess *s, struct console_out *o)
{
	const char *inst = s->cmd.u.logs.inst;
	bool follow = s->cmd.u.logs.follow;
	char *buf = kmalloc(OUTPUT_CHUNK);
	struct lines *l = kzalloc(sizeof *l);
	const char *rep = NULL;
	if (!buf || !l) {
		rep = console_out_err(o, "internal", "out of memory");
		goto out;
	}
	l->json = o->json && !follow;
	if (l->json) {
		console_out_raw(o, "{\"instance\":");
		console_out_json_str(o, inst, strlen(inst));
	}
	uint64_t off = 0, last = now_ms(), sent = 0;
	uint64_t follow_ms = s->io->idle_ms ? s->io->idle_ms : (uint64_t)config.console_idle * 1000;
	bool ended = false;
	for (;;) {
		uint64_t next = off;
		long r = agent_output(inst, off, buf, OUTPUT_CHUNK, &next, &ended);
		if (r < 0) {
			out_flush(o, l);
			rep = logs_errno(o, r, inst);
			break;
		}
		if (r > 0) {
			out_bytes(o, l, buf, (size_t)r);
			off = next;
			sent += (uint64_t)r;
			last = now_ms();
			if (!follow && sent >= LOGS_MAX) {
				out_flush(o, l);
				if (!l->json)
					console_out_line(o,
							 "(cut at %u bytes: use -f for the rest)",
							 LOGS_MAX);
				rep = console_out_ok(o);
				break;
			}
			if (!follow || o->len < OUTPUT_CHUNK)
				continue;
		} else if (!follow || ended) {
			out_flush(o, l);
			rep = console_out_ok(o);
			break;
		}
		/* Following: send what there is (complete lines), then wait for more. */
		if (o->len && !o->oom) {
			if (s->io->write(s->io->ctx, o->buf, o->len) < 0)
				goto gone;
			o->len = 0;
			o->buf[0] = 0;
		}
		if ((s->io->stop && *s->io->stop) || now_ms() - last > follow_ms) {
			out_flush(o, l);
			rep = console_out_ok(o);
			break;
		}
		if (r == 0)
			thread_sleep_ns(CONSOLE_FOLLOW_POLL_MS * NS_PER_MS);
	}
out:
	kfree(buf);
	if (l)
		kfree(l->all);
	kfree(l);
	return rep;
gone:
	kfree(buf);
	kfree(l->all);
	kfree(l);
	return NULL; /* the peer left: no reply */
}

/* --- keys ------------------------------------------------------------------------------- */

static void fingerprint(const uint8_t *key, size_t len, char out[2 * FINGERPRINT_BYTES + 1])
{
	uint8_t h[32];
	mbedtls_sha256_ret(key, len, h, 0);
	hex(h, FINGERPRINT_BYTES, out);
}

static const char *cmd_keys(struct sess *s, struct console_out *o)
{
	const struct console_cmd *cmd = &s->cmd;
	struct gossip_keyring kr, one;
	const char *rep;
	if (members_keyring(&kr) < 0)
		return console_out_err(o, "unavailable", "membership is not running");
	if (cmd->u.keys.op == CONSOLE_KEYS_LIST) {
		char fp[2 * FINGERPRINT_BYTES + 1];
		if (o->json)
			console_out_raw(o, "{\"encrypted\":%s,\"keys\":[", kr.n ? "true" : "false");
		else
			console_out_line(o, "%-5s  %-7s  %4s  %s", "INDEX", "ROLE", "BITS",
					 "SHA256 PREFIX");
		for (unsigned i = 0; i < kr.n; i++) {
			fingerprint(kr.key[i], kr.len[i], fp);
			if (o->json)
				console_out_raw(o,
						"%s{\"index\":%u,\"primary\":%s,\"bits\":%u,"
						"\"sha256_prefix\":\"%s\"}",
						i ? "," : "", i, i ? "false" : "true",
						kr.len[i] * 8u, fp);
			else
				console_out_line(o, "%-5u  %-7s  %4u  %s", i,
						 i ? "install" : "primary", kr.len[i] * 8u, fp);
		}
		if (o->json)
			console_out_raw(o, "]}");
		else if (!kr.n)
			console_out_line(o, "(plaintext: no keyring)");
		rep = console_out_ok(o);
		goto out;
	}
	if (gossip_keyring_parse(&one, cmd->u.keys.key) < 0 || one.n != 1) {
		rep = console_out_err(o, "usage",
				      "KEY must be one base64 key of 16, 24 or 32 bytes");
		goto out;
	}
	if (!kr.n) {
		rep = console_out_err(o, "denied",
				      "gossip runs in plaintext: no keyring to rotate");
		goto out;
	}
	static const enum agent_key_op ops[] = {
		[CONSOLE_KEYS_INSTALL] = AGENT_KEY_INSTALL,
		[CONSOLE_KEYS_USE] = AGENT_KEY_USE,
		[CONSOLE_KEYS_REMOVE] = AGENT_KEY_REMOVE,
	};
	enum agent_key_op op = ops[cmd->u.keys.op];
	switch (agent_keys_apply(&kr, op, one.key[0], one.len[0])) {
	case 0:
		break;
	case -EEXIST:
		rep = console_out_err(o, "exists", "the key is installed already");
		goto out;
	case -ENOSPC:
		rep = console_out_err(o, "denied", "the keyring holds %d keys already",
				      GOSSIP_KEYS_MAX);
		goto out;
	case -ENOENT:
		rep = console_out_err(o, "notfound",
				      op == AGENT_KEY_USE ? "install the key first"
							  : "no such key");
		goto out;
	case -EALREADY:
		rep = console_out_err(o, "exists", "the key is the primary already");
		goto out;
	case -EBUSY:
		rep = console_out_err(o, "denied",
				      "the primary key is in use: `keys use` another one first");
		goto out;
	default:
		rep = console_out_err(o, "usage",
				      "KEY must be one base64 key of 16, 24 or 32 bytes");
		goto out;
	}
	int r = members_set_keyring(&kr);
	if (r < 0) {
		rep = console_out_err(o, "internal", "the keyring was not changed (%d)", r);
		goto out;
	}
	if (agent_keys_announce(op, one.key[0], one.len[0]) == 0)
		console_out_line(o, "keyring changed on this node and announced to every member; "
				    "`keys list` on a node shows its keyring");
	else
		console_out_line(o, "keyring changed on this node only (the announcement could "
				    "not be queued): repeat on every node");
	rep = console_out_ok(o);
out:
	memset(&kr, 0, sizeof kr);
	memset(&one, 0, sizeof one);
	__asm__ volatile("" ::"r"(&kr), "r"(&one) : "memory");
	return rep;
}

/* --- stats and log ------------------------------------------------------------------------ */

static const char *cmd_stats(struct console_out *o)
{
	struct members_local l;
	bool gossip = members_local(&l) == 0;
	struct agent_stats a;
	agent_stats(&a);
	struct console_stats cs;
	console_stats(&cs);
	const struct gossip_stats *g = &l.stats;
	if (o->json) {
		console_out_raw(o, "{\"gossip\":");
		if (gossip)
			console_out_raw(
				o,
				"{\"udp_in\":%lu,\"udp_out\":%lu,\"udp_bytes_in\":%lu,"
				"\"udp_bytes_out\":%lu,\"frames_in\":%lu,\"frames_out\":%lu,"
				"\"drop_auth\":%lu,\"drop_malformed\":%lu,\"probe_failed\":%lu,"
				"\"app_in\":%lu,\"app_out\":%lu,\"health\":%u}",
				g->udp_in, g->udp_out, g->udp_bytes_in, g->udp_bytes_out,
				g->frames_in, g->frames_out, g->drop_auth, g->drop_malformed,
				g->probe_failed, g->app_in, g->app_out, l.health);
		else
			console_out_raw(o, "null");
		console_out_raw(o,
				",\"agent\":{\"running\":%s,\"started\":%lu,\"ended\":%lu,"
				"\"start_failed\":%lu,\"fetches\":%lu,\"fetch_failed\":%lu,"
				"\"blobs\":%zu}",
				agent_running() ? "true" : "false", a.started, a.ended,
				a.start_failed, a.fetches, a.fetch_failed, agent_blob_count());
		console_out_raw(o,
				",\"console\":{\"sessions\":%lu,\"sessions_total\":%lu,"
				"\"refused\":%lu,\"handshakes_failed\":%lu,\"timed_out\":%lu,"
				"\"commands\":%lu,\"commands_failed\":%lu,\"bad_lines\":%lu,"
				"\"uploads\":%lu}}",
				cs.sessions_active, cs.sessions_total, cs.sessions_refused,
				cs.handshakes_failed, cs.sessions_timed_out, cs.commands,
				cs.commands_failed, cs.bad_lines, cs.uploads);
		return console_out_ok(o);
	}
	if (gossip) {
		console_out_line(o,
				 "gossip   udp in/out %lu/%lu pkts, %lu/%lu B; streams in/out "
				 "%lu/%lu; dropped auth %lu malformed %lu; probes failed %lu; "
				 "health %u",
				 g->udp_in, g->udp_out, g->udp_bytes_in, g->udp_bytes_out,
				 g->frames_in, g->frames_out, g->drop_auth, g->drop_malformed,
				 g->probe_failed, l.health);
	} else {
		console_out_line(o, "gossip   not running");
	}
	console_out_line(o,
			 "agent    %s; started %lu ended %lu start-failed %lu; fetches %lu "
			 "failed %lu; blobs %zu",
			 agent_running() ? "running" : "not running", a.started, a.ended,
			 a.start_failed, a.fetches, a.fetch_failed, agent_blob_count());
	console_out_line(o,
			 "console  sessions %lu now, %lu in all, %lu refused; handshakes "
			 "failed %lu; timed out %lu; commands %lu (%lu err); bad lines %lu; "
			 "uploads %lu",
			 cs.sessions_active, cs.sessions_total, cs.sessions_refused,
			 cs.handshakes_failed, cs.sessions_timed_out, cs.commands,
			 cs.commands_failed, cs.bad_lines, cs.uploads);
	return console_out_ok(o);
}

static const char *level_name(enum log_level l)
{
	static const char *const n[] = {"debug", "info", "warn", "error"};
	return (unsigned)l < 4 ? n[l] : "?";
}

/* The last N records of the kernel log ring: counted in a first walk, shown in a second
 * (records written in between only move the window). */
static const char *cmd_log(struct console_out *o, uint32_t want)
{
	struct log_record *rec = kmalloc(sizeof *rec);
	if (!rec)
		return console_out_err(o, "internal", "out of memory");
	uint64_t seq = 0, total = 0;
	while (log_read(&seq, rec))
		total++;
	uint64_t skip = total > want ? total - want : 0;
	seq = 0;
	if (o->json)
		console_out_raw(o, "{\"log\":[");
	for (uint64_t i = 0, k = 0; log_read(&seq, rec) && k < want; i++) {
		if (i < skip)
			continue;
		if (o->json) {
			console_out_raw(o, "%s{\"seq\":%lu,\"ms\":%lu,\"level\":\"%s\",\"text\":",
					k ? "," : "", rec->seq, rec->time_ns / 1000000UL,
					level_name(rec->level));
			console_out_json_str(o, rec->text, strlen(rec->text));
			console_out_raw(o, "}");
		} else {
			console_out_line(o, "[%5lu.%03lu] %-5s %s", rec->time_ns / 1000000000UL,
					 (rec->time_ns / 1000000UL) % 1000, level_name(rec->level),
					 rec->text);
		}
		k++;
	}
	if (o->json)
		console_out_raw(o, "]}");
	kfree(rec);
	return console_out_ok(o);
}

static const char *cmd_help(struct console_out *o, const char *topic)
{
	if (!topic[0]) {
		if (o->json) {
			console_out_raw(o, "{\"help\":");
			const char *h = console_help();
			console_out_json_str(o, h, strlen(h));
			console_out_raw(o, "}");
		} else {
			console_out_line(o, "%s", console_help());
		}
		return console_out_ok(o);
	}
	size_t tl = strlen(topic);
	for (int k = CONSOLE_HELP; k <= CONSOLE_QUIT; k++) {
		const char *u = console_usage((enum console_cmd_kind)k);
		if (u && !strncmp(u, topic, tl) && (u[tl] == ' ' || u[tl] == 0)) {
			if (o->json) {
				console_out_raw(o, "{\"usage\":");
				console_out_json_str(o, u, strlen(u));
				console_out_raw(o, "}");
			} else {
				console_out_line(o, "usage: %s", u);
			}
			return console_out_ok(o);
		}
	}
	return console_out_err(o, "notfound", "no command %s", topic);
}

/* --- upload ----------------------------------------------------------------------------- */

static void upload_begin(struct sess *s)
{
	s->uploading = true;
	s->upload_json = s->cmd.json;
	s->blob_size = s->cmd.u.upload.size;
	s->blob_len = 0;
	memcpy(s->sha, s->cmd.u.upload.sha256, sizeof s->sha);
	s->blob = kmalloc(s->blob_size); /* NULL: the body is still read, then refused */
	mbedtls_sha256_init(&s->hash);
	mbedtls_sha256_starts_ret(&s->hash, 0);
	console_reader_raw(&s->r, s->blob_size);
}

static void upload_piece(struct sess *s, const uint8_t *p, size_t n)
{
	mbedtls_sha256_update_ret(&s->hash, p, n);
	if (s->blob && s->blob_len + n <= s->blob_size)
		memcpy(s->blob + s->blob_len, p, n);
	s->blob_len += n;
}

static const char *upload_end(struct sess *s, struct console_out *o)
{
	uint8_t got[32];
	char h[65];
	const char *rep;
	mbedtls_sha256_finish_ret(&s->hash, got);
	mbedtls_sha256_free(&s->hash);
	s->uploading = false;
	if (memcmp(got, s->sha, sizeof got)) {
		rep = console_out_err(o, "checksum", "the body's SHA-256 is %s", hex(got, 32, h));
	} else if (!s->blob) {
		/* No single block free for the body (fragmented memory). */
		rep = console_out_err(o, "toobig", "no memory for %zu bytes in one piece",
				      s->blob_size);
	} else {
		int r = agent_blob_put(got, s->blob, s->blob_len);
		if (r == 0) {
			kinfo("console: %s: uploaded sha256:%s (%zu bytes)", s->io->who,
			      hex(got, 32, h), s->blob_len);
			count(&console_counters.uploads, 1);
			count(&console_counters.upload_bytes, s->blob_len);
			if (o->json)
				console_out_raw(o, "{\"blob\":\"sha256:%s\",\"size\":%zu}", h,
						s->blob_len);
			else
				console_out_line(o, "sha256:%s", h);
			rep = console_out_ok(o);
		} else if (r == -ENOSPC) {
			rep = console_out_err(o, "toobig", "no room for more uploaded programs");
		} else if (r == -EINVAL) {
			rep = console_out_err(o, "checksum", "the blob store refused the checksum");
		} else {
			rep = console_out_err(o, "unavailable",
					      "the cluster scheduler is not running (%d)", r);
		}
	}
	kfree(s->blob);
	s->blob = NULL;
	return rep;
}

/* --- dispatch --------------------------------------------------------------------------- */

static bool changes_state(enum console_cmd_kind k, const struct console_cmd *c)
{
	switch (k) {
	case CONSOLE_SUBMIT:
	case CONSOLE_STOP:
	case CONSOLE_SCALE:
	case CONSOLE_UPLOAD:
	case CONSOLE_DRAIN:
	case CONSOLE_SHUTDOWN:
	case CONSOLE_REBOOT:
		return true;
	case CONSOLE_KEYS:
		return c->u.keys.op != CONSOLE_KEYS_LIST;
	default:
		return false;
	}
}

/* Run s->cmd; the reply (NULL: none, the peer left) and the action that follows it. */
static const char *exec(struct sess *s, struct console_out *o, int *action)
{
	const struct console_cmd *cmd = &s->cmd;
	*action = ACTION_NONE;
	switch (cmd->kind) {
	case CONSOLE_HELP:
		return cmd_help(o, cmd->u.topic);
	case CONSOLE_MEMBERS:
		return cmd_members(o);
	case CONSOLE_NODES:
		return cmd_nodes(o);
	case CONSOLE_SUBMIT:
		return cmd_submit(s, o);
	case CONSOLE_JOBS:
		return cmd_jobs(o);
	case CONSOLE_STATUS:
		return cmd_status(o, cmd->u.job);
	case CONSOLE_PS:
		return cmd_ps(o);
	case CONSOLE_LOGS:
		return cmd_logs(s, o);
	case CONSOLE_STOP:
	case CONSOLE_SCALE:
	case CONSOLE_DRAIN:
		return cmd_change(s, o);
	case CONSOLE_UPLOAD: /* handled by line() */
		break;
	case CONSOLE_KEYS:
		return cmd_keys(s, o);
	case CONSOLE_STATS:
		return cmd_stats(o);
	case CONSOLE_LOG:
		return cmd_log(o, cmd->u.lines ? cmd->u.lines : CONSOLE_LOG_LINES_DEFAULT);
	case CONSOLE_SHUTDOWN:
		*action = ACTION_SHUTDOWN;
		console_out_line(o, "powering off");
		return console_out_ok(o);
	case CONSOLE_REBOOT:
		*action = ACTION_REBOOT;
		console_out_line(o, "rebooting");
		return console_out_ok(o);
	case CONSOLE_QUIT:
		*action = ACTION_QUIT;
		return console_out_ok(o);
	}
	return console_out_err(o, "internal", "command %d not handled", (int)cmd->kind);
}

/* Answer an error for a line that did not parse: "code message" from console_parse. */
static const char *parse_error(struct sess *s, struct console_out *o)
{
	char *sp = strchr(s->err, ' ');
	if (sp)
		*sp = 0;
	count(&console_counters.bad_lines, 1);
	return console_out_err(o, s->err[0] ? s->err : "usage", "%s", sp ? sp + 1 : "");
}

/* One line: parse, run, reply. -1 when the session must end (peer gone, quit); an action
 * for after the reply. */
static int line(struct sess *s, const char *text, size_t len, int *action)
{
	struct console_out o;
	const char *rep;
	*action = ACTION_NONE;
	s->err[0] = 0;
	if (console_parse(text, len, &s->cmd, s->err, sizeof s->err) < 0) {
		console_out_init(&o, false);
		rep = parse_error(s, &o);
		/* The body of an upload refused for its size follows; it cannot be told from
		 * commands, so the session ends. */
		if (!strncmp(rep, "err toobig", 10))
			*action = ACTION_QUIT;
	} else {
		console_out_init(&o, s->cmd.json);
		if (changes_state(s->cmd.kind, &s->cmd))
			audit(s, text, len);
		if (s->cmd.kind == CONSOLE_UPLOAD) {
			upload_begin(s);
			console_out_free(&o);
			return 0; /* the reply comes at the body's end */
		}
		rep = exec(s, &o, action);
	}
	int r = rep ? send_reply(s, rep) : -1;
	console_out_free(&o);
	return r;
}

static void act(int action)
{
	if (action == ACTION_SHUTDOWN || action == ACTION_REBOOT) {
		thread_sleep_ns(100 * NS_PER_MS); /* let the reply go out */
		power_shutdown(action == ACTION_REBOOT);
	}
}

static bool blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t')
			return false;
	return true;
}

static int item(struct sess *s, const struct console_item *it)
{
	struct console_out o;
	const char *rep = NULL;
	int action = ACTION_NONE;
	switch (it->kind) {
	case CONSOLE_ITEM_LINE:
		if (blank((const char *)it->data, it->len))
			return 0; /* an empty line (a terminal's Enter) asks nothing */
		if (line(s, (const char *)it->data, it->len, &action) < 0)
			return -1;
		act(action);
		return action == ACTION_QUIT ? -1 : 0;
	case CONSOLE_ITEM_TOOLONG:
		console_out_init(&o, false);
		count(&console_counters.bad_lines, 1);
		rep = console_out_err(&o, "toolong", "a line is at most %d bytes",
				      CONSOLE_LINE_MAX);
		break;
	case CONSOLE_ITEM_BINARY:
		console_out_init(&o, false);
		count(&console_counters.bad_lines, 1);
		rep = console_out_err(&o, "binary", "a line held bytes that are not text");
		break;
	case CONSOLE_ITEM_RAW:
		upload_piece(s, it->data, it->len);
		return 0;
	case CONSOLE_ITEM_RAW_END:
		console_out_init(&o, s->upload_json);
		rep = upload_end(s, &o);
		break;
	default:
		return 0;
	}
	int r = send_reply(s, rep);
	console_out_free(&o);
	return r;
}

void console_session_run(struct console_io *io)
{
	struct sess *s = kzalloc(sizeof *s);
	uint8_t *buf = kmalloc(READ_CHUNK);
	if (!s || !buf) {
		static const char msg[] = "err internal out of memory\n";
		io->write(io->ctx, msg, sizeof msg - 1);
		kfree(s);
		kfree(buf);
		return;
	}
	s->io = io;
	console_reader_init(&s->r);
	uint64_t last = now_ms();
	for (;;) {
		if (io->stop && *io->stop)
			break;
		long n = io->read(io->ctx, buf, READ_CHUNK, CONSOLE_POLL_MS);
		if (n < 0)
			break;
		if (n == 0) {
			if (io->idle_ms && now_ms() - last > io->idle_ms) {
				count(&console_counters.sessions_timed_out, 1);
				kdebug("console: %s: session idle for %u s, closed", io->who,
				       io->idle_ms / 1000);
				break;
			}
			continue;
		}
		last = now_ms();
		console_reader_feed(&s->r, buf, (size_t)n);
		struct console_item it;
		bool end = false;
		while (!end && console_reader_next(&s->r, &it))
			end = item(s, &it) < 0;
		if (end)
			break;
		last = now_ms(); /* a long command (logs -f, --wait) is not idleness */
	}
	if (s->uploading) {
		mbedtls_sha256_free(&s->hash);
		kfree(s->blob);
	}
	kfree(buf);
	kfree(s);
}
