/* wire.c: the cluster records' binary codec (laid out in sched/cluster/README.md).
 *
 * All integers are big-endian; strings are a u8 length and that many bytes with no NUL.
 * Decoding reads through a cursor whose first error sticks: every read checks the bytes
 * left, every string its bound and its bytes, every enum its range, and a record is only
 * accepted when its body is consumed exactly. Nothing is applied here: the core applies a
 * record (or a whole state) only after all of it decoded. */
#include <errno.h>
#include <string.h>

#include "sched/cluster/internal.h"

void clw_buf_free(struct buf *b)
{
	cl_free(b->p);
	b->p = NULL;
	b->n = b->cap = 0;
}

void clw_put_raw(struct buf *b, const void *v, size_t n)
{
	if (b->err || !n)
		return;
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->n + n)
			cap *= 2;
		if (cl_grow((void **)&b->p, b->cap, cap)) {
			b->err = true;
			return;
		}
		b->cap = cap;
	}
	memcpy(b->p + b->n, v, n);
	b->n += n;
}

#define put clw_put_raw

static void put8(struct buf *b, uint8_t v) { put(b, &v, 1); }

static void put16(struct buf *b, uint16_t v)
{
	uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	put(b, x, 2);
}

void clw_put32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	put(b, x, 4);
}

static void put64(struct buf *b, uint64_t v)
{
	clw_put32(b, (uint32_t)(v >> 32));
	clw_put32(b, (uint32_t)v);
}

static void putstr(struct buf *b, const char *s)
{
	size_t n = strlen(s);
	put8(b, (uint8_t)n);
	put(b, s, n);
}

static void putid(struct buf *b, const char *id) { put(b, id, CLUSTER_JOB_ID_LEN); }

void clw_put_hdr(struct buf *b, uint8_t type)
{
	uint8_t h[CL_HDR_LEN] = {CL_MAGIC0, CL_MAGIC1, CL_VERSION, type};
	put(b, h, sizeof h);
}

size_t clw_frame_begin(struct buf *b, uint8_t type)
{
	put8(b, type);
	put16(b, 0);
	return b->n;
}

void clw_frame_end(struct buf *b, size_t at)
{
	size_t len = b->n - at;
	if (b->err)
		return;
	if (len > 0xffff) {
		b->err = true;
		return;
	}
	b->p[at - 2] = (uint8_t)(len >> 8);
	b->p[at - 1] = (uint8_t)len;
}

void clw_put_spec(struct buf *b, const struct rec_spec *r)
{
	const struct cluster_job_spec *s = r->spec;
	putid(b, r->job);
	put64(b, r->submitted_ms);
	putstr(b, r->by);
	putstr(b, r->on);
	putstr(b, s->name);
	put8(b, (uint8_t)s->kind);
	clw_put32(b, s->count);
	put16(b, s->cpu);
	clw_put32(b, s->mem_mib);
	put16(b, s->max_retries);
	put8(b, (uint8_t)s->score);
	put8(b, s->distinct);
	put8(b, s->nconstraints);
	for (unsigned i = 0; i < s->nconstraints; i++)
		putstr(b, s->constraints[i]);
	putstr(b, s->program);
	put8(b, s->has_blob);
	if (s->has_blob)
		put(b, s->blob_sha256, 32);
	put16(b, s->argv_len);
	put(b, s->argv, s->argv_len);
	put16(b, s->env_len);
	put(b, s->env, s->env_len);
}

void clw_put_ctl(struct buf *b, const struct rec_ctl *r)
{
	putid(b, r->job);
	clw_put32(b, r->count);
	put8(b, r->stopped);
	put64(b, r->ver);
	putstr(b, r->writer);
}

static bool terminal(uint8_t s) { return s >= CLUSTER_EXITED; }

void clw_put_inst(struct buf *b, const struct rec_inst *r)
{
	putid(b, r->job);
	clw_put32(b, r->slot);
	clw_put32(b, r->attempt);
	putstr(b, r->node);
	put8(b, r->state);
	put8(b, r->flags);
	clw_put32(b, (uint32_t)r->status);
	put64(b, r->placed);
	put64(b, r->started);
	put64(b, r->ended);
	put16(b, r->tail_len);
	put(b, r->tail, r->tail_len);
}

void clw_put_node(struct buf *b, const struct rec_node *r)
{
	putstr(b, r->node);
	put8(b, r->drain);
	put64(b, r->ver);
	putstr(b, r->writer);
}

void clw_put_gone(struct buf *b, const struct rec_gone *r)
{
	putid(b, r->job);
	put64(b, r->age_ms);
	putstr(b, r->writer);
}

/* Decoding. */
struct in {
	const uint8_t *p;
	size_t n, at;
	bool err;
};

static const uint8_t *take(struct in *in, size_t n)
{
	const uint8_t *p;
	if (in->err || in->n - in->at < n) {
		in->err = true;
		return NULL;
	}
	p = in->p + in->at;
	in->at += n;
	return p;
}

static uint8_t get8(struct in *in)
{
	const uint8_t *p = take(in, 1);
	return p ? p[0] : 0;
}

static uint16_t get16(struct in *in)
{
	const uint8_t *p = take(in, 2);
	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

static uint32_t get32(struct in *in)
{
	const uint8_t *p = take(in, 4);
	return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
}

static uint64_t get64(struct in *in)
{
	uint64_t hi = get32(in);
	return hi << 32 | get32(in);
}

/* A printable string of min..max bytes into out[max + 1]. */
static void getstr(struct in *in, char *out, size_t min, size_t max)
{
	size_t n = get8(in);
	const uint8_t *p;
	out[0] = 0;
	if (in->err)
		return;
	if (n < min || n > max) {
		in->err = true;
		return;
	}
	p = take(in, n);
	if (!p)
		return;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < 0x20 || p[i] > 0x7e) {
			in->err = true;
			return;
		}
	}
	memcpy(out, p, n);
	out[n] = 0;
}

bool clw_job_id_ok(const char *id)
{
	if (strnlen(id, CLUSTER_JOB_ID_LEN + 1) != CLUSTER_JOB_ID_LEN || id[0] != 'j')
		return false;
	for (int i = 1; i < CLUSTER_JOB_ID_LEN; i++) {
		char ch = id[i];
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			return false;
	}
	return true;
}

static void getid(struct in *in, char *out)
{
	const uint8_t *p = take(in, CLUSTER_JOB_ID_LEN);
	out[0] = 0;
	if (!p)
		return;
	memcpy(out, p, CLUSTER_JOB_ID_LEN);
	out[CLUSTER_JOB_ID_LEN] = 0;
	if (!clw_job_id_ok(out))
		in->err = true;
}

/* NUL-separated strings: empty, or ending in a NUL. */
static bool strings_ok(const char *p, size_t n) { return n == 0 || p[n - 1] == 0; }

static bool name_ok(const char *s)
{
	for (; *s; s++) {
		char ch = *s;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.'))
			return false;
	}
	return true;
}

const char *clw_check_spec(const struct cluster_job_spec *s)
{
	if (strnlen(s->name, sizeof s->name) == sizeof s->name || !name_ok(s->name))
		return "bad name (up to 63 of A-Z a-z 0-9 . _ -)";
	if (s->name[0] && clw_job_id_ok(s->name))
		return "a name may not look like a job id";
	if (s->kind != CLUSTER_BATCH && s->kind != CLUSTER_SERVICE)
		return "bad kind";
	if (s->count < 1 || s->count > CLUSTER_COUNT_MAX)
		return "count out of range (1..100000)";
	if (s->cpu < 1)
		return "cpu must be at least 1";
	if (s->mem_mib < 1)
		return "mem must be at least 1 MiB";
	if (s->score != CLUSTER_SPREAD && s->score != CLUSTER_BINPACK)
		return "bad score";
	if (s->nconstraints > CLUSTER_CONSTRAINTS_MAX)
		return "too many constraints";
	for (unsigned i = 0; i < s->nconstraints; i++) {
		const char *k = s->constraints[i];
		size_t n = strnlen(k, sizeof s->constraints[i]);
		const char *eq = memchr(k, '=', n);
		if (n == sizeof s->constraints[i] || !eq || eq == k)
			return "a constraint is TAG=VALUE";
		for (size_t j = 0; j < n; j++)
			if (k[j] <= 0x20 || k[j] > 0x7e || k[j] == ',')
				return "bad byte in a constraint";
	}
	if (strnlen(s->program, sizeof s->program) == sizeof s->program)
		return "program path too long";
	for (const char *p = s->program; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return "bad byte in the program path";
	if (!s->program[0] && !s->has_blob)
		return "no program";
	if (s->argv_len > CLUSTER_ARGV_BYTES || !strings_ok(s->argv, s->argv_len))
		return "bad argv";
	if (s->env_len > CLUSTER_ENV_BYTES || !strings_ok(s->env, s->env_len))
		return "bad environment";
	return NULL;
}

/* Flags are 0 or 1: one encoding per record. */
static bool bool_of(struct in *in, uint8_t v)
{
	if (v > 1)
		in->err = true;
	return v == 1;
}

static void get_spec(struct in *in, struct rec_spec *r)
{
	struct cluster_job_spec *s = r->spec;
	memset(s, 0, sizeof *s);
	getid(in, r->job);
	r->submitted_ms = get64(in);
	getstr(in, r->by, 0, CLUSTER_IDENTITY_MAX);
	getstr(in, r->on, 1, CLUSTER_NAME_MAX);
	getstr(in, s->name, 0, CLUSTER_NAME_MAX);
	s->kind = get8(in);
	s->count = get32(in);
	s->cpu = get16(in);
	s->mem_mib = get32(in);
	s->max_retries = get16(in);
	s->score = get8(in);
	s->distinct = bool_of(in, get8(in));
	s->nconstraints = get8(in);
	if (s->nconstraints > CLUSTER_CONSTRAINTS_MAX)
		in->err = true;
	for (unsigned i = 0; !in->err && i < s->nconstraints; i++)
		getstr(in, s->constraints[i], 3, CLUSTER_CONSTRAINT_MAX);
	getstr(in, s->program, 0, CLUSTER_PROGRAM_MAX);
	s->has_blob = bool_of(in, get8(in));
	if (s->has_blob) {
		const uint8_t *p = take(in, 32);
		if (p)
			memcpy(s->blob_sha256, p, 32);
	}
	s->argv_len = get16(in);
	if (s->argv_len > CLUSTER_ARGV_BYTES) {
		in->err = true;
		return;
	}
	const uint8_t *p = take(in, s->argv_len);
	if (p)
		memcpy(s->argv, p, s->argv_len);
	s->env_len = get16(in);
	if (s->env_len > CLUSTER_ENV_BYTES) {
		in->err = true;
		return;
	}
	p = take(in, s->env_len);
	if (p)
		memcpy(s->env, p, s->env_len);
	if (!in->err && clw_check_spec(s))
		in->err = true;
}

int clw_get_rec(uint8_t type, const uint8_t *p, size_t n, union rec *r)
{
	struct in in = {p, n, 0, false};
	switch (type) {
	case CL_REC_SPEC:
		get_spec(&in, &r->spec);
		break;
	case CL_REC_CTL:
		getid(&in, r->ctl.job);
		r->ctl.count = get32(&in);
		r->ctl.stopped = get8(&in);
		r->ctl.ver = get64(&in);
		getstr(&in, r->ctl.writer, 1, CLUSTER_NAME_MAX);
		if (r->ctl.count < 1 || r->ctl.count > CLUSTER_COUNT_MAX || r->ctl.stopped > 1 ||
		    !r->ctl.ver)
			in.err = true;
		break;
	case CL_REC_INST: {
		struct rec_inst *i = &r->inst;
		getid(&in, i->job);
		i->slot = get32(&in);
		i->attempt = get32(&in);
		getstr(&in, i->node, 1, CLUSTER_NAME_MAX);
		i->state = get8(&in);
		i->flags = get8(&in);
		i->status = (int32_t)get32(&in);
		i->placed = get64(&in);
		i->started = get64(&in);
		i->ended = get64(&in);
		i->tail_len = get16(&in);
		i->tail = (const char *)take(&in, i->tail_len);
		if (i->slot >= CLUSTER_COUNT_MAX || i->attempt > 0xffff ||
		    i->state > CLUSTER_STOPPED || (i->flags & ~CL_F_ALL) ||
		    i->tail_len > CLUSTER_TAIL_MAX || (i->tail_len && !terminal(i->state)))
			in.err = true;
		break;
	}
	case CL_REC_NODE:
		getstr(&in, r->node.node, 1, CLUSTER_NAME_MAX);
		r->node.drain = get8(&in);
		r->node.ver = get64(&in);
		getstr(&in, r->node.writer, 1, CLUSTER_NAME_MAX);
		if (r->node.drain > 1 || !r->node.ver)
			in.err = true;
		break;
	case CL_REC_GONE:
		getid(&in, r->gone.job);
		r->gone.age_ms = get64(&in);
		getstr(&in, r->gone.writer, 1, CLUSTER_NAME_MAX);
		break;
	default:
		return -EBADMSG;
	}
	return in.err || in.at != n ? -EBADMSG : 0;
}

uint64_t cl_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

uint64_t cl_hash(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return cl_mix(h);
}
