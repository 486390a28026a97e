/* queue.c: the simulator's event queue (binary min-heap on time, then push order). */
#include "tests/sim/queue.h"

#include <errno.h>
#include <stdlib.h>

#define QUEUE_CAP_MIN 1024

static bool before(const struct ev *a, const struct ev *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

int queue_push(struct queue *q, const struct ev *e)
{
	size_t i, up;

	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : QUEUE_CAP_MIN;
		struct ev *v = realloc(q->v, cap * sizeof *v);

		if (!v)
			return -ENOMEM;
		q->v = v;
		q->cap = cap;
	}
	i = q->n++;
	q->v[i] = *e;
	q->v[i].seq = q->seq++;
	while (i > 0) {
		up = (i - 1) / 2;
		if (!before(&q->v[i], &q->v[up]))
			break;
		struct ev t = q->v[i];
		q->v[i] = q->v[up];
		q->v[up] = t;
		i = up;
	}
	return 0;
}

bool queue_pop(struct queue *q, struct ev *e)
{
	size_t i = 0, l, m;

	if (!q->n)
		return false;
	*e = q->v[0];
	q->v[0] = q->v[--q->n];
	for (;;) {
		l = 2 * i + 1;
		m = i;
		if (l < q->n && before(&q->v[l], &q->v[m]))
			m = l;
		if (l + 1 < q->n && before(&q->v[l + 1], &q->v[m]))
			m = l + 1;
		if (m == i)
			break;
		struct ev t = q->v[i];
		q->v[i] = q->v[m];
		q->v[m] = t;
		i = m;
	}
	return true;
}

uint64_t queue_next(const struct queue *q) { return q->n ? q->v[0].at : UINT64_MAX; }

void queue_free(struct queue *q)
{
	size_t i;

	for (i = 0; i < q->n; i++)
		free(q->v[i].data);
	free(q->v);
	q->v = NULL;
	q->n = q->cap = 0;
}
