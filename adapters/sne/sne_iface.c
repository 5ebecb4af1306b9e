/* sne_iface.c - dispatch to the SNE interface's implementation (see
 * sne_iface.h). Holds no logic of its own. */
#include "sne_iface.h"

#include <stdlib.h>

struct sne_iface {
    const sne_iface_ops_t *ops;
    void *impl;
};

sne_iface_t *sne_iface_new(const sne_iface_ops_t *ops, void *impl)
{
    sne_iface_t *self = calloc(1, sizeof *self);
    if (!self) {
        ops->close(impl);
        return NULL;
    }
    self->ops = ops;
    self->impl = impl;
    return self;
}

void sne_iface_destroy(sne_iface_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    (*self_p)->ops->close((*self_p)->impl);
    free(*self_p);
    *self_p = NULL;
}

const char *sne_iface_name(const sne_iface_t *self)
{
    return self->ops->name;
}

fb_err_t sne_iface_submit(sne_iface_t *self, const sne_record_t *rec, char *err, size_t errlen)
{
    return self->ops->submit(self->impl, rec, err, errlen);
}

fb_err_t sne_iface_collect(sne_iface_t *self, sne_answer_fn fn, void *ctx, size_t *handled)
{
    size_t none = 0;
    return self->ops->collect(self->impl, fn, ctx, handled ? handled : &none);
}
